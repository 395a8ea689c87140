"""GraphQL types of what the service says about input: problems and warnings by field,
industry codes by name, names masked in a text."""

# strawberry.field(description=...) is typed as returning Any:
# mypy: disallow-untyped-decorators=False

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from services.groups.domain import names
from services.groups.domain.industry import IndustryClass
from shared.errors import DomainError
from shared.i18n import current_language


@strawberry.type(
    description="A rule a field breaks, or a warning about it: the code, field and params a "
    "refusal carries in its extensions, and the message in the caller's language."
)
class FieldProblem:
    code: str
    field: str | None = strawberry.field(description="The input field, as the API names it.")
    message: str
    params: JSON

    @classmethod
    def from_error(cls, error: DomainError) -> FieldProblem:
        return cls(
            code=error.code,
            field=to_camel_case(error.field) if error.field else None,
            message=error.render(),
            params=cast(JSON, error.json_params()),
        )


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
