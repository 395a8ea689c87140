"""The console's texts: the gettext domain ``console`` (services/console/locale).

In Python: ``_("Signed in as {name}", name=user.display_name)``; in templates the same
``{{ _("...", name=...) }}``. A count: ``ngettext("{count} member", "{count} members", n)``
(each language's plural rule, from its catalogue's ``Plural-Forms``). Values by name in
``{braces}``; the whole sentence is one message (docs/translating.md). Dates, times and
numbers: the template filters ``date``, ``datetime``, ``time``, ``number``
(shared/i18n/formats: Europe/Helsinki, 7.12.2026 klo 18.00).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from shared.i18n import LANGUAGE_NAMES, LANGUAGES, Language, current_language, negotiate
from shared.i18n.catalogues import Catalogue
from shared.i18n.formats import format_number

CONSOLE: Final = Catalogue("console", Path(__file__).parent / "locale")
LANGUAGE_COOKIE: Final = "mgn_lang"


def _(message: str, **params: Any) -> str:
    """``message`` in the current language, ``{name}`` placeholders filled in."""
    text = CONSOLE.gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """The form of the message for the number ``n`` in the current language (``1 member``,
    ``2 members``); ``{count}`` is ``n`` as the language writes numbers."""
    text = CONSOLE.ngettext(singular, plural, n)
    return text.format(count=format_number(n), **params)


def choose_language(
    account: str | None, cookie: str | None, accept_language: str | None
) -> Language:
    """The account's choice, else the cookie's (before sign-in), else the browser's."""
    for choice in (account, cookie):
        if choice in LANGUAGES:
            return str(choice)
    return negotiate(accept_language)


def language_choices() -> list[tuple[str, str, bool]]:
    """``(code, name in that language, current)`` for the header's language switch."""
    now = current_language()
    return [(code, LANGUAGE_NAMES[code], code == now) for code in LANGUAGES]
