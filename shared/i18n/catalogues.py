"""gettext catalogues read from ``.po`` files at run time.

A domain's files live at ``<directory>/<language>/LC_MESSAGES/<domain>.po``; its template
``<directory>/<domain>.pot`` is written by ``python -m shared.i18n extract`` (see
docs/translating.md). English is the source language: a message without an English
catalogue, or with an empty translation anywhere, shows its English ``msgid``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from shared.i18n import LOCALE_DIR, Language, current_language


@dataclass(frozen=True)
class Catalogue:
    """One gettext domain: ``errors`` (the shared error vocabulary), ``console``, ..."""

    domain: str
    directory: Path

    def po_file(self, language: str) -> Path:
        return self.directory / language / "LC_MESSAGES" / f"{self.domain}.po"

    @property
    def template(self) -> Path:
        return self.directory / f"{self.domain}.pot"

    def translations(self, language: Language) -> gettext.NullTranslations:
        return _load(self, language)

    def gettext(self, message: str, language: Language | None = None) -> str:
        return self.translations(language or current_language()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, language: Language | None = None) -> str:
        return self.translations(language or current_language()).ngettext(singular, plural, n)


@cache
def _load(catalogue: Catalogue, language: str) -> gettext.NullTranslations:
    path = catalogue.po_file(language)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=catalogue.domain)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=catalogue.domain)


ERRORS = Catalogue("errors", LOCALE_DIR)
"""The shared error vocabulary's messages (shared/errors), for every service."""
