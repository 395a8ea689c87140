"""Codebooks as values, and the rules a codebook must keep (pure Python, no I/O).

A codebook is versioned: ``key`` names it (``wenger``, ``growth_barriers``), each version is
immutable, and editing means adding the next version (a coding names the version it used).
Every title, code name and definition exists in fi, sv and en; examples may be empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors.research import (
    BadCode,
    BadCodebookKey,
    DuplicateCode,
    MissingText,
    NoCodes,
)

LANGUAGES = ("fi", "sv", "en")
KEY = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
NAME_LIMIT, TITLE_LIMIT, TEXT_LIMIT, CITATION_LIMIT = 200, 300, 4000, 2000


@dataclass(frozen=True)
class Texts:
    """One text in the three languages of the project."""

    fi: str
    sv: str
    en: str

    def get(self, language: str) -> str:
        return str(getattr(self, language if language in LANGUAGES else "en"))

    def stripped(self) -> Texts:
        return Texts(self.fi.strip(), self.sv.strip(), self.en.strip())


@dataclass(frozen=True)
class CodeInput:
    code: str
    name: Texts
    definition: Texts
    example: Texts


@dataclass(frozen=True)
class CodebookInput:
    key: str
    title: Texts
    citation: str
    codes: tuple[CodeInput, ...]


def _texts(texts: Texts, what: str, field: str, limit: int, *, required: bool = True) -> Texts:
    clean = texts.stripped()
    for language in LANGUAGES:
        value = clean.get(language)
        if (required and not value) or len(value) > limit:
            raise MissingText(
                field=f"{field}_{language}", what=what, language=language, limit=limit
            )
    return clean


def validated(book: CodebookInput) -> CodebookInput:
    """``book`` with its texts trimmed, or the first rule it breaks as a refusal."""
    if not KEY.match(book.key):
        raise BadCodebookKey(key=book.key)
    title = _texts(book.title, "title", "title", TITLE_LIMIT)
    citation = book.citation.strip()
    if len(citation) > CITATION_LIMIT:
        raise MissingText(field="citation", what="citation", language="en", limit=CITATION_LIMIT)
    if not book.codes:
        raise NoCodes()
    seen: set[str] = set()
    codes = []
    for item in book.codes:
        if not CODE.match(item.code):
            raise BadCode(code=item.code)
        if item.code in seen:
            raise DuplicateCode(code=item.code)
        seen.add(item.code)
        codes.append(
            CodeInput(
                code=item.code,
                name=_texts(item.name, f"{item.code}: name", "name", NAME_LIMIT),
                definition=_texts(
                    item.definition, f"{item.code}: definition", "definition", TEXT_LIMIT
                ),
                example=_texts(
                    item.example, f"{item.code}: example", "example", TEXT_LIMIT, required=False
                ),
            )
        )
    return CodebookInput(key=book.key, title=title, citation=citation, codes=tuple(codes))
