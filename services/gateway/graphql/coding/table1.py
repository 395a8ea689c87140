"""``table1``: the case study's Table 1 from the data (services/gateway/research/table1.py)."""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Annotated

import strawberry

from services.gateway.graphql.access import require_rows
from services.gateway.graphql.coding.access import require_researcher
from services.gateway.graphql.context import Info
from services.gateway.graphql.fields import resolved
from services.gateway.research import table1 as t1
from services.gateway.research.scope import Scope
from services.gateway.research.table1_render import render
from shared.i18n import current_language

From = Annotated[date | None, strawberry.argument(name="from", description="First meeting day.")]
To = Annotated[date | None, strawberry.argument(description="Last meeting day (inclusive).")]


@strawberry.enum(description="How Table 1 is written out.")
class Table1Format(Enum):
    CSV = "csv"
    MD = "md"
    TEX = "tex"


@strawberry.type(description="An example of a code, dated by its meeting.")
class Table1Example:
    text: str
    meeting_id: strawberry.ID
    meeting_date: date = strawberry.field(description="The meeting's day in Europe/Helsinki.")
    region: str
    group_id: strawberry.ID
    group_name: str | None
    featured: bool = strawberry.field(description="Chosen by a researcher (else: most recent).")

    @classmethod
    def of(cls, e: t1.Example) -> Table1Example:
        return cls(
            text=e.text,
            meeting_id=strawberry.ID(e.meeting_id),
            meeting_date=e.meeting_date,
            region=e.region,
            group_id=strawberry.ID(e.group_id),
            group_name=e.group_name,
            featured=e.featured,
        )


@strawberry.type(description="One code's line of Table 1.")
class Table1Row:
    code: str
    name: str
    definition: str
    groups: int = strawberry.field(description="Distinct groups where it was found.")
    meetings: int = strawberry.field(description="Distinct meetings where it was found.")
    activities: int = strawberry.field(description="Times it was coded (marks).")
    examples: list[Table1Example]


@strawberry.type(description="Table 1: per code of a codebook version, counts and examples.")
class Table1:
    codebook_id: strawberry.ID
    codebook_key: str
    version: int
    title: str
    citation: str
    coder: str = strawberry.field(description="'consensus' or the coder shown.")
    language: str
    rows: list[Table1Row]
    _table: strawberry.Private[t1.Table1]

    @resolved("The table written out as CSV, Markdown or LaTeX.")
    def text(self, format: Table1Format = Table1Format.CSV) -> str:
        return render(self._table, format.value)

    @classmethod
    def of(cls, t: t1.Table1) -> Table1:
        return cls(
            codebook_id=strawberry.ID(t.codebook_id),
            codebook_key=t.codebook_key,
            version=t.version,
            title=t.title,
            citation=t.citation,
            coder=t.coder,
            language=t.language,
            rows=[
                Table1Row(
                    code=r.code,
                    name=r.name,
                    definition=r.definition,
                    groups=r.groups,
                    meetings=r.meetings,
                    activities=r.activities,
                    examples=[Table1Example.of(e) for e in r.examples],
                )
                for r in t.rows
            ],
            _table=t,
        )


@strawberry.type
class Table1Query:
    @resolved(
        "Table 1 from the data: per code of the codebook version, its name and definition, "
        "distinct groups, meetings and activities in the consensus coding (or `coder`'s) of "
        "meetings in the period (exact meeting days), region and group, with up to "
        "`examples` examples (chosen ones first, then the most recent). Rows in full: "
        "researchers everything, an agency its own region."
    )
    async def table1(
        self,
        info: Info,
        codebook_id: strawberry.ID,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        coder: str | None = None,
        examples: int = 2,
        language: str | None = None,
    ) -> Table1:
        guard = info.context.guard
        require_rows(guard, "table1", region)
        if coder is not None:
            require_researcher(info, "table1(coder)")
        scope = Scope(from_, to, region, None if group_id is None else str(group_id))
        async with info.context.sessions() as session:
            table = await t1.table1(
                session,
                str(codebook_id),
                scope,
                guard,
                coder=coder,
                examples=examples,
                language=language or current_language(),
            )
        return Table1.of(table)
