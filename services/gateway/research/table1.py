"""Table 1 of the case study, from the data: per code of a codebook version, its name and
definition, the distinct groups and meetings it was found in and how often (activities =
marks), with examples each dated by its meeting, placed by region and group.

Counts come from the consensus coding of each meeting (``coder``: one coder's instead), of
meetings in the scope (meeting days in Europe/Helsinki, exact; region; group) that the
caller sees in full, read from the workspace's facts (:mod:`.counts`: all-time sums per
nation, region and group; a period's unit rows by an index range). Examples: one per
meeting (its chosen mark's, else its first with text), those the researchers chose
(``featured``) first, then the most recent; at most ``examples`` per code. Renderers:
:mod:`.table1_render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Guard
from services.gateway.research import counts, store
from services.gateway.research.codebooks import LANGUAGES
from services.gateway.research.scope import Scope
from services.gateway.research.tables import CONSENSUS
from shared.i18n.formats import HELSINKI

MAX_EXAMPLES = 10


@dataclass(frozen=True)
class Example:
    text: str
    meeting_id: str
    meeting_date: date  # in Europe/Helsinki
    region: str
    group_id: str
    group_name: str | None
    featured: bool


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    definition: str
    groups: int
    meetings: int
    activities: int
    examples: tuple[Example, ...]


@dataclass(frozen=True)
class Table1:
    codebook_id: str
    codebook_key: str
    version: int
    title: str
    citation: str
    coder: str  # 'consensus' or a coder's pseudonym
    language: str
    rows: tuple[Row, ...]


async def table1(
    session: AsyncSession,
    codebook_id: str,
    scope: Scope,
    guard: Guard,
    *,
    coder: str | None = None,
    examples: int = 2,
    language: str = "en",
) -> Table1:
    lang = language if language in LANGUAGES else "en"
    examples = max(0, min(examples, MAX_EXAMPLES))
    book = await store.codebook_row(session, codebook_id)
    codes = await store.code_rows(session, codebook_id)
    who = coder or CONSENSUS
    where = await counts.resolve(session, scope, guard)
    found_counts = await counts.table1_counts(session, codebook_id, who, where)
    found: dict[str, list[Example]] = {}
    chosen = await counts.table1_examples(
        session, codebook_id, who, where, [code.code for code in codes], examples
    )
    for code_name, picked in chosen.items():
        found[code_name] = [
            Example(
                text=r.example,
                meeting_id=r.meeting_id,
                meeting_date=_helsinki_day(r.starts_at),
                region=r.region,
                group_id=r.group_id,
                group_name=group_name,
                featured=bool(r.featured),
            )
            for r, group_name in picked
        ]
    rows = []
    for code in codes:
        groups_, meetings_, marks = found_counts.get(code.code, (0, 0, 0))
        rows.append(
            Row(
                code=code.code,
                name=getattr(code, f"name_{lang}"),
                definition=getattr(code, f"definition_{lang}"),
                groups=groups_,
                meetings=meetings_,
                activities=marks,
                examples=tuple(found.get(code.code, ())),
            )
        )
    return Table1(
        codebook_id=codebook_id,
        codebook_key=book.key,
        version=book.version,
        title=getattr(book, f"title_{lang}"),
        citation=book.citation,
        coder=coder or CONSENSUS,
        language=lang,
        rows=tuple(rows),
    )


def _helsinki_day(moment: datetime) -> date:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(HELSINKI).date()
