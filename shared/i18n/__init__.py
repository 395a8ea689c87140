"""Languages of the network's people: gettext catalogues (Babel) and Finnish formats.

- :mod:`shared.i18n.catalogues`: ``.po`` files read at run time (no compiled ``.mo`` in the
  repository), one :class:`~shared.i18n.catalogues.Catalogue` per gettext domain (``errors``
  for the shared error vocabulary; a page service's own for its pages and mails).
- :mod:`shared.i18n.formats`: dates, times and numbers shown and read in the user's language,
  times in Europe/Helsinki (``7.12.2026 klo 18.00``).

The languages are those with a catalogue of the shared error vocabulary
(``shared/i18n/locale/<lang>/LC_MESSAGES/errors.po``): a translator adds one with ``.po``
files and no code (docs/translating.md). Finnish, Swedish and English come first, in that
order; each is written as in Finland (``fi_FI``, ``sv_FI``, ``en_FI``) where Babel knows it.

The language of the request being served is a context variable (:func:`set_language`), set
by the HTTP layer from the signed-in user's choice or ``Accept-Language``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Final, TypeAlias

from babel import Locale, UnknownLocaleError, negotiate_locale

Language: TypeAlias = str  # a language code with catalogues: "fi", "sv", "en", ...

LOCALE_DIR: Final = Path(__file__).parent / "locale"
_FIRST: Final = ("fi", "sv", "en")


def _languages() -> tuple[Language, ...]:
    found = {p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/errors.po")}
    found.add("en")  # the source language needs no catalogue
    return (*[lang for lang in _FIRST if lang in found], *sorted(found - set(_FIRST)))


def _locale(language: Language) -> Locale:
    try:
        return Locale.parse(f"{language}_FI")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)


LANGUAGES: Final[tuple[Language, ...]] = _languages()
DEFAULT_LANGUAGE: Final[Language] = "fi"  # pages and mails, when nothing else is known
SOURCE_LANGUAGE: Final[Language] = "en"  # messages are written in it; logs, bare API calls
LOCALES: Final[dict[Language, Locale]] = {lang: _locale(lang) for lang in LANGUAGES}
LANGUAGE_NAMES: Final[dict[Language, str]] = {
    lang: (Locale.parse(lang).get_display_name(lang) or lang) for lang in LANGUAGES
}

_current: ContextVar[Language] = ContextVar("mgn_language", default=SOURCE_LANGUAGE)


def is_language(value: object) -> bool:
    return isinstance(value, str) and value in LANGUAGES


def negotiate(accept_language: str | None, default: Language = DEFAULT_LANGUAGE) -> Language:
    """The best of our languages for an ``Accept-Language`` header (``sv-FI,sv;q=0.9,en``)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag.strip() and quality > 0:
            ranked.append((-quality, position, tag.strip().replace("-", "_")))
    tags = [tag for *_, tag in sorted(ranked)]
    found = negotiate_locale(tags, list(LANGUAGES), sep="_")
    if found is None:  # "sv_SE" alone does not match "sv": try the bare languages
        found = next(
            (t.split("_")[0].lower() for t in tags if is_language(t.split("_")[0].lower())), None
        )
    return found if found is not None and is_language(found) else default


def N_(message: str) -> str:
    """Mark an English message for the catalogues without translating it here."""
    return message


def current_language() -> Language:
    return _current.get()


def set_language(language: Language) -> None:
    """Serve the rest of the current task (one request) in ``language``."""
    _current.set(language if is_language(language) else SOURCE_LANGUAGE)


@contextmanager
def use_language(language: Language) -> Iterator[None]:
    """Run the enclosed code in ``language`` (errors, formats, page texts)."""
    token = _current.set(language if is_language(language) else SOURCE_LANGUAGE)
    try:
        yield
    finally:
        _current.reset(token)
