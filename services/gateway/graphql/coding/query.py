"""Queries of the coding workspace: codebooks (every role), codings, progress and agreement
(researchers only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from sqlalchemy import select, tuple_

from services.gateway.graphql import cursor
from services.gateway.graphql.coding.access import require_researcher
from services.gateway.graphql.coding.types import (
    Codebook,
    CodebookAgreement,
    Coding,
    CodingProgress,
)
from services.gateway.graphql.context import Info
from services.gateway.graphql.cursor import INSTANT, TEXT
from services.gateway.graphql.fields import resolved
from services.gateway.graphql.pagination import check_first
from services.gateway.graphql.values import as_utc
from services.gateway.orm import meetings
from services.gateway.research import counts, store
from services.gateway.research.agreement import agreement, from_counts
from services.gateway.research.scope import Scope
from services.gateway.research.tables import CONSENSUS, codebooks, coding_marks, codings
from services.gateway.statuses import MeetingStatus
from shared.errors.research import UnknownCoder

From = Annotated[date | None, strawberry.argument(name="from", description="First meeting day.")]
To = Annotated[date | None, strawberry.argument(description="Last meeting day (inclusive).")]


async def load_codebook(info: Info, codebook_id: str) -> Codebook:
    async with info.context.sessions() as session:
        row = await store.codebook_row(session, codebook_id)
        codes = await store.code_rows(session, codebook_id)
    return Codebook.from_rows(row, codes)


async def load_coding(info: Info, coding_id: str) -> Coding:
    sessions = info.context.write_sessions or info.context.sessions
    async with sessions() as session:
        row = (await session.execute(select(codings).where(codings.c.id == coding_id))).one()
        marks = (
            await session.execute(
                select(coding_marks)
                .where(coding_marks.c.coding_id == coding_id)
                .order_by(coding_marks.c.code, coding_marks.c.span_start, coding_marks.c.id)
            )
        ).all()
    return Coding.from_rows(row, list(marks))


@strawberry.type
class CodingQuery:
    @resolved("Codebooks, every version, by key and version (a published instrument: all roles).")
    async def codebooks(self, info: Info, key: str | None = None) -> list[Codebook]:
        query = select(codebooks.c.id).order_by(codebooks.c.key, codebooks.c.version)
        if key is not None:
            query = query.where(codebooks.c.key == key)
        async with info.context.sessions() as session:
            ids = list(await session.scalars(query))
        return [await load_codebook(info, i) for i in ids]

    @resolved("One codebook version by id.")
    async def codebook(self, info: Info, id: strawberry.ID) -> Codebook:
        return await load_codebook(info, str(id))

    @resolved("Every coding of one meeting with one codebook: each coder's and the consensus.")
    async def meeting_codings(
        self, info: Info, codebook_id: strawberry.ID, meeting_id: strawberry.ID
    ) -> list[Coding]:
        require_researcher(info, "meetingCodings")
        query = (
            select(codings.c.id)
            .where(
                codings.c.codebook_id == str(codebook_id), codings.c.meeting_id == str(meeting_id)
            )
            .order_by(codings.c.coder_id)
        )
        async with info.context.sessions() as session:
            ids = list(await session.scalars(query))
        return [await load_coding(info, i) for i in ids]

    @resolved(
        "Meetings in the period (by meeting day) with who has coded them with the codebook and "
        "whether they are reconciled, by start time; `first` at most 500."
    )
    async def coding_progress(
        self,
        info: Info,
        codebook_id: strawberry.ID,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
        first: int = 100,
        after: str | None = None,
    ) -> list[CodingProgress]:
        guard = require_researcher(info, "codingProgress")
        check_first(first)
        scope = Scope(from_, to, region, None if group_id is None else str(group_id))
        m = meetings.c
        query = select(m.id, m.starts_at, m.region, m.group_id).where(
            m.status == MeetingStatus.HELD, *scope.meeting_terms(guard)
        )
        if after is not None:
            start, last = cursor.decode("codingProgress", after, (INSTANT, TEXT))
            query = query.where(tuple_(m.starts_at, m.id) > tuple_(start, last))
        query = query.order_by(m.starts_at, m.id).limit(first)
        async with info.context.sessions() as session:
            await store.codebook_row(session, str(codebook_id))
            rows = (await session.execute(query)).all()
            found = (
                await session.execute(
                    select(codings.c.meeting_id, codings.c.coder_id).where(
                        codings.c.codebook_id == str(codebook_id),
                        codings.c.meeting_id.in_([r.id for r in rows]),
                    )
                )
            ).all()
        by: dict[str, list[str]] = {}
        for meeting, coder in found:
            by.setdefault(meeting, []).append(coder)
        return [
            CodingProgress(
                meeting_id=strawberry.ID(r.id),
                starts_at=as_utc(r.starts_at),
                region=r.region,
                group_id=strawberry.ID(r.group_id),
                coders=sorted(c for c in by.get(r.id, []) if c != CONSENSUS),
                reconciled=CONSENSUS in by.get(r.id, []),
            )
            for r in rows
        ]

    @resolved(
        "Agreement of the coders (default: all who coded with the codebook in the period) per "
        "code and pooled: Cohen's kappa with its 95 % CI for two coders, Krippendorff's alpha "
        "for two or more; 'nothing found' codings count as coded without any code. Everyone's "
        "agreement is read from per-day sums; a subset of `coders` from their codings."
    )
    async def codebook_agreement(
        self,
        info: Info,
        codebook_id: strawberry.ID,
        coders: list[str] | None = None,
        region: str | None = None,
        group_id: strawberry.ID | None = None,
        from_: From = None,
        to: To = None,
    ) -> CodebookAgreement:
        guard = require_researcher(info, "codebookAgreement")
        scope = Scope(from_, to, region, None if group_id is None else str(group_id))
        book = str(codebook_id)
        async with info.context.sessions() as session:
            await store.codebook_row(session, book)
            codes = [row.code for row in await store.code_rows(session, book)]
            for coder in coders or ():
                known = await session.scalar(
                    select(codings.c.id)
                    .where(codings.c.codebook_id == book, codings.c.coder_id == coder)
                    .limit(1)
                )
                if known is None or coder == CONSENSUS:
                    raise UnknownCoder(coder=coder)
            where = await counts.resolve(session, scope, guard)
            everyone = await counts.agreement_counts(session, book, where)
            if coders is None or set(coders) == set(everyone.coders):
                return CodebookAgreement.of(book, from_counts(everyone, codes))
            # some of the coders only: their units and values differ, from the codings
            found = await store.codings_for_agreement(session, book, scope, guard)
        return CodebookAgreement.of(book, agreement(found, codes, coders))
