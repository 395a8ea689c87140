"""Table 1 of the case study, from the data: per code of a codebook version, its name and
definition, the distinct groups and meetings it was found in and how often (activities =
marks), with examples each dated by its meeting, placed by region and group.

Counts come from the consensus coding of each meeting (``coder``: one coder's instead), of
meetings in the scope (meeting days in Europe/Helsinki, exact; region; group) that the
caller sees in full. Examples: those the researchers chose (``featured``) first, then the
most recent; at most ``examples`` per code. Renderers: :mod:`.table1_render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Guard
from services.gateway.orm import groups, meetings
from services.gateway.research import store
from services.gateway.research.codebooks import LANGUAGES
from services.gateway.research.scope import Scope
from services.gateway.research.tables import CONSENSUS, coding_marks, codings
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
    c, m = codings.c, coding_marks.c
    where: list[ColumnElement[bool]] = [
        c.codebook_id == codebook_id,
        c.coder_id == (coder or CONSENSUS),
        *scope.coding_terms(c.region, c.group_id),
        *scope.meeting_terms(guard),
    ]
    joined = codings.join(coding_marks, m.coding_id == c.id).join(
        meetings, meetings.c.id == c.meeting_id
    )
    counts = {
        row.code: row
        for row in await session.execute(
            select(
                m.code,
                func.count(func.distinct(c.group_id)).label("groups"),
                func.count(func.distinct(c.meeting_id)).label("meetings"),
                func.count().label("activities"),
            )
            .select_from(joined)
            .where(*where)
            .group_by(m.code)
        )
    }
    found: dict[str, list[Example]] = {}
    if examples:
        rank = (
            func.row_number()
            .over(
                partition_by=m.code,
                order_by=(m.featured.desc(), meetings.c.starts_at.desc(), m.id),
            )
            .label("rank")
        )
        ranked = (
            select(
                m.code,
                m.example,
                m.featured,
                c.meeting_id,
                c.region,
                c.group_id,
                meetings.c.starts_at,
                rank,
            )
            .select_from(joined)
            .where(*where, m.example != "")
            .subquery()
        )
        query = (
            select(ranked, groups.c.name.label("group_name"))
            .select_from(ranked.outerjoin(groups, groups.c.id == ranked.c.group_id))
            .where(and_(ranked.c.rank <= examples))
            .order_by(ranked.c.code, ranked.c.rank)
        )
        for r in await session.execute(query):
            found.setdefault(r.code, []).append(
                Example(
                    text=r.example,
                    meeting_id=r.meeting_id,
                    meeting_date=_helsinki_day(r.starts_at),
                    region=r.region,
                    group_id=r.group_id,
                    group_name=r.group_name,
                    featured=bool(r.featured),
                )
            )
    rows = []
    for code in codes:
        count = counts.get(code.code)
        rows.append(
            Row(
                code=code.code,
                name=getattr(code, f"name_{lang}"),
                definition=getattr(code, f"definition_{lang}"),
                groups=0 if count is None else int(count.groups),
                meetings=0 if count is None else int(count.meetings),
                activities=0 if count is None else int(count.activities),
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
