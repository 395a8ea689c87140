"""Every text of the survey page and the mails, from the ``feedback`` gettext catalogue.

Messages are English ``msgid``s marked with :func:`_` (extracted by ``mgn translations
extract`` into ``services/feedback/locale/feedback.pot``); a language is a ``.po`` file
there, no code (docs/translating.md). They are rendered in the current language
(:func:`shared.i18n.use_language`), their ``{placeholders}`` filled in by name. Dates are
shown as the reader writes them (:func:`local_date`).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Final

from shared.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, Language, is_language
from shared.i18n.catalogues import Catalogue
from shared.i18n.formats import format_date

FEEDBACK: Final = Catalogue("feedback", Path(__file__).parent / "locale")

__all__ = ["FEEDBACK", "LANGUAGES", "_", "label", "language", "language_name", "local_date"]


def _(message: str, **values: object) -> str:
    """``message`` in the current language, its ``{placeholders}`` filled in."""
    text = FEEDBACK.gettext(message)
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):  # a translation naming a wrong placeholder
        return message.format(**values)


def language(*wanted: str | None) -> Language:
    """The first of ``wanted`` that is one of our languages, else Finnish."""
    for lang in wanted:
        if lang is not None and is_language(lang):
            return lang
    return DEFAULT_LANGUAGE


def language_name(lang: Language) -> str:
    """The language's own name, as a link to it reads: Suomi, Svenska, English."""
    name = LANGUAGE_NAMES[lang]
    return name[:1].upper() + name[1:]


def local_date(moment: datetime, tz: tzinfo) -> str:
    """The day of ``moment`` in ``tz`` as the reader writes dates (7.12.2026)."""
    return format_date(moment.astimezone(tz).date())


def label(question: str) -> str:
    """The survey question ``question`` (a form field), in the current language."""
    labels = {
        "overall": _("Overall rating of the meeting (1 = poor, 5 = excellent)"),
        "usefulness": _("Usefulness for your own business (1 = none, 5 = very useful)"),
        "recommend": _(
            "How likely are you to recommend the group to another entrepreneur? "
            "(0 = not at all, 10 = very likely)"
        ),
        "takeaway": _("What did you take away from the meeting?"),
        "change": _("What would you change?"),
    }
    return labels[question]
