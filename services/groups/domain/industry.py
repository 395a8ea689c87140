"""Industry codes: the Standard Industrial Classification TOL 2008 of Statistics Finland.

TOL 2008 is NACE Rev. 2 on its first four levels (Statistics Finland: "TOL 2008
-luokituksen 1-4 -numerotasot ovat yhteneväiset NACE Rev.2:n kanssa, mutta 5-numerotaso on
kansallinen"): 21 sections A-U, 88 divisions (2 digits), 272 groups (3), 615 classes (4).
``tol2008.csv`` holds those 996 codes with their names in Finnish, Swedish and English, as
published by Eurostat (NACE Rev. 2, reuse authorised with acknowledgement), taken from the
``NACE_REV2_{fi,sv,en}.csv`` files of the OCA package odoo12-addon-l10n-eu-nace 12.0.2.1.1
(PyPI); codes written without dots as TOL writes them (``62.01`` -> ``6201``).

The fifth digit is national: a class not subdivided in Finland has the sub-class ``<class>0``
(``62010``), a subdivided one ``<class>1``... Statistics Finland's list of the sub-classes
could not be had here, so a five-digit code is accepted when its first four digits are a
class (a typo in the fifth digit of a real class is not caught; any other typo is).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Final

from shared.errors.groups import InvalidIndustryCode

LEVELS: Final = {1: "section", 2: "division", 3: "group", 4: "class", 5: "sub-class"}
_FORM = re.compile(r"[A-U]|[0-9]{2,5}")


@dataclass(frozen=True, slots=True)
class IndustryClass:
    """One code of TOL 2008 and its names; ``level`` 1 (section) to 5 (sub-class)."""

    code: str
    level: int
    names: dict[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@cache
def classification() -> dict[str, IndustryClass]:
    """Every section, division, group and class of TOL 2008 by its code, in order."""
    text = files("services.groups.domain").joinpath("tol2008.csv").read_text(encoding="utf-8")
    return {
        row["code"]: IndustryClass(
            row["code"], int(row["level"]), {lang: row[lang] for lang in ("fi", "sv", "en")}
        )
        for row in csv.DictReader(text.splitlines())
    }


def normalised(code: str) -> str:
    """``62.01`` / ``62 010`` / ``j`` as TOL writes them: ``6201``, ``62010``, ``J``."""
    return re.sub(r"[\s.]", "", code).upper()


def lookup(code: str) -> IndustryClass | None:
    """The class of a (normalised) code; a five-digit code takes its class's names."""
    known = classification()
    if code in known:
        return known[code]
    if len(code) == 5 and code.isdigit() and code[:4] in known:
        return IndustryClass(code, 5, known[code[:4]].names)
    return None


def check_industry_code(code: str) -> str:
    """The normalised ``code`` if TOL 2008 has it, else :class:`InvalidIndustryCode`."""
    tidy = normalised(code)
    if not _FORM.fullmatch(tidy) or lookup(tidy) is None:
        raise InvalidIndustryCode(industry_code=code.strip())
    return tidy


def search(text: str, language: str, *, limit: int = 20) -> list[IndustryClass]:
    """Codes starting with ``text``, or whose name in ``language`` contains it: codes first,
    then names starting with it, then names with a word starting with it; classes (the level
    a member usually gives) before the other levels."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    prefix = normalised(text)

    def rank(item: IndustryClass) -> tuple[bool, ...]:
        name = item.name(language).casefold()
        return (
            not item.code.startswith(prefix),
            not name.startswith(wanted),
            not any(word.startswith(wanted) for word in re.split(r"\W+", name)),
            item.level != 4,
        )

    found = [
        item
        for item in classification().values()
        if item.code.startswith(prefix) or wanted in item.name(language).casefold()
    ]
    found.sort(key=lambda item: (rank(item), item.code))
    return found[:limit]
