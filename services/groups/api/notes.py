"""GraphQL types of what the service says about input: problems and warnings by field,
industry codes by name, names masked in a text."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from enum import Enum

import strawberry

from services.groups.domain import names
from services.groups.domain.industry import IndustryClass
from shared.i18n import current_language
from shared.runtime.graphql_errors import FieldProblem

__all__ = ["FieldProblem", "IndustryCode", "MaskedName", "MaskedText", "NameKind"]


@strawberry.type(
    description="A code of the Standard Industrial Classification TOL 2008 (Statistics "
    "Finland): level 1 section (A-U), 2 division, 3 group, 4 class, 5 national sub-class."
)
class IndustryCode:
    code: str
    level: int
    name: str = strawberry.field(description="In the caller's language (fi, sv, en).")

    @classmethod
    def from_domain(cls, found: IndustryClass) -> IndustryCode:
        return cls(code=found.code, level=found.level, name=found.name(current_language()))


@strawberry.enum(description="Whose name was masked.")
class NameKind(Enum):
    PERSON = "person"
    COMPANY = "company"


@strawberry.type(description="A name masked in a text, and how often.")
class MaskedName:
    kind: NameKind
    name: str | None = strawberry.field(
        description="The name; null for an erased person's (it is no longer known)."
    )
    occurrences: int


@strawberry.type(
    description="A text with the region's person names replaced by [name] and member "
    "companies' by [company], and what was masked (for the author's preview)."
)
class MaskedText:
    text: str
    masked: list[MaskedName]

    @classmethod
    def from_domain(cls, masked: names.MaskedText) -> MaskedText:
        return cls(
            text=masked.text,
            masked=[
                MaskedName(kind=NameKind(m.kind), name=m.name, occurrences=m.occurrences)
                for m in masked.masked
            ],
        )
