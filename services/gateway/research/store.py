"""The workspace in SQL: codebooks and their versions, codings and the consensus.

Every function takes the caller's session (one transaction per request, opened by the
resolver) and the researcher's pseudonym where it writes. :func:`coded_marks` is the one
query the research views count from: the consensus coding by default, one coder's on request.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.auth.guard import Guard
from services.gateway.orm import meetings, memos
from services.gateway.research.codebooks import CodebookInput, validated
from services.gateway.research.coding import (
    CodingInput,
    Mark,
    checked_marks,
    require_coders,
)
from services.gateway.research.scope import Scope
from services.gateway.research.tables import (
    CONSENSUS,
    codebook_codes,
    codebooks,
    coding_marks,
    codings,
)
from services.gateway.views import facts
from shared.errors.research import (
    CodebookExists,
    NotAConsensusMark,
    UnknownCodebook,
    UnknownMeeting,
)


def _now() -> datetime:
    return datetime.now(UTC)


# --- codebooks -------------------------------------------------------------------------


async def _insert_codebook(
    session: AsyncSession, book: CodebookInput, version: int, by: str
) -> str:
    book_id = str(uuid.uuid4())
    await session.execute(
        insert(codebooks).values(
            id=book_id,
            key=book.key,
            version=version,
            title_fi=book.title.fi,
            title_sv=book.title.sv,
            title_en=book.title.en,
            citation=book.citation,
            created_by=by,
            created_at=_now(),
        )
    )
    await session.execute(
        insert(codebook_codes),
        [
            {
                "codebook_id": book_id,
                "code": code.code,
                "position": i,
                **{f"name_{lang}": code.name.get(lang) for lang in ("fi", "sv", "en")},
                **{f"definition_{lang}": code.definition.get(lang) for lang in ("fi", "sv", "en")},
                **{f"example_{lang}": code.example.get(lang) for lang in ("fi", "sv", "en")},
            }
            for i, code in enumerate(book.codes)
        ],
    )
    return book_id


async def _latest_version(session: AsyncSession, key: str) -> int | None:
    found = await session.scalar(
        select(func.max(codebooks.c.version)).where(codebooks.c.key == key)
    )
    return None if found is None else int(found)


async def create_codebook(session: AsyncSession, book: CodebookInput, by: str) -> str:
    """Version 1 of a new codebook; its id."""
    book = validated(book)
    if await _latest_version(session, book.key) is not None:
        raise CodebookExists(key=book.key)
    return await _insert_codebook(session, book, 1, by)


async def add_codebook_version(session: AsyncSession, book: CodebookInput, by: str) -> str:
    """The next version of the codebook ``book.key``; its id."""
    book = validated(book)
    latest = await _latest_version(session, book.key)
    if latest is None:
        raise UnknownCodebook(field="key", codebook=book.key)
    return await _insert_codebook(session, book, latest + 1, by)


async def has_first_codebook(session: AsyncSession) -> bool:
    from services.gateway.research.wenger import KEY

    return await _latest_version(session, KEY) is not None


async def ensure_first_codebook(session: AsyncSession) -> None:
    """Write Wenger's types as version 1 of ``wenger`` unless the codebook exists."""
    from services.gateway.research.wenger import first_codebook

    if not await has_first_codebook(session):
        await _insert_codebook(session, validated(first_codebook()), 1, "mgn")


async def codebook_row(session: AsyncSession, codebook_id: str) -> Any:
    row = (await session.execute(select(codebooks).where(codebooks.c.id == codebook_id))).first()
    if row is None:
        raise UnknownCodebook(codebook=codebook_id)
    return row


async def code_rows(session: AsyncSession, codebook_id: str) -> list[Any]:
    query = (
        select(codebook_codes)
        .where(codebook_codes.c.codebook_id == codebook_id)
        .order_by(codebook_codes.c.position)
    )
    return list((await session.execute(query)).all())


# --- codings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingUnit:
    region: str
    group_id: str
    memo: str | None
    memo_version: int | None


async def _meeting(session: AsyncSession, meeting_id: str) -> MeetingUnit:
    row = (
        await session.execute(
            select(meetings.c.region, meetings.c.group_id, memos.c.summary, memos.c.version)
            .select_from(meetings.outerjoin(memos, memos.c.meeting_id == meetings.c.id))
            .where(meetings.c.id == meeting_id)
        )
    ).first()
    if row is None:
        raise UnknownMeeting(meeting_id=meeting_id)
    return MeetingUnit(row.region, row.group_id, row.summary, row.version)


async def _save(
    session: AsyncSession,
    coding: CodingInput,
    coder: str,
    *,
    reconciled_by: str | None = None,
) -> str:
    book = await codebook_row(session, coding.codebook_id)
    codes = {row.code for row in await code_rows(session, coding.codebook_id)}
    unit = await _meeting(session, coding.meeting_id)
    if reconciled_by is not None:
        require_coders(coding.meeting_id, len(await coders_of(session, coding)))
    marks = checked_marks(
        coding,
        f"{book.key} v{book.version}",
        codes,
        unit.memo,
        consensus=reconciled_by is not None,
    )
    c = codings.c
    key = (
        (c.codebook_id == coding.codebook_id)
        & (c.meeting_id == coding.meeting_id)
        & (c.coder_id == coder)
    )
    old = await session.scalar(select(c.id).where(key))
    if old is not None:  # a coder revises their own coding: the new one replaces it
        await session.execute(delete(coding_marks).where(coding_marks.c.coding_id == old))
        await session.execute(delete(codings).where(c.id == old))
    coding_id = str(uuid.uuid4())
    await session.execute(
        insert(codings).values(
            id=coding_id,
            codebook_id=coding.codebook_id,
            meeting_id=coding.meeting_id,
            coder_id=coder,
            region=unit.region,
            group_id=unit.group_id,
            nothing_found=coding.nothing_found,
            note=coding.note.strip()[:2000],
            reconciled_by=reconciled_by,
            coded_at=_now(),
        )
    )
    if marks:
        await session.execute(
            insert(coding_marks), [_mark_row(coding_id, m, unit.memo_version) for m in marks]
        )
    await _counted_again(session, coding.meeting_id)
    return coding_id


async def _counted_again(session: AsyncSession, meeting_id: str) -> None:
    """Recompute the meeting's research facts in the same transaction (the views count its
    consensus: services/gateway/views/consensus.py)."""
    await facts.apply(session, facts.Touched(coded={meeting_id}))


def _mark_row(coding_id: str, mark: Mark, memo_version: int | None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "coding_id": coding_id,
        "code": mark.code,
        "span_start": mark.span_start,
        "span_end": mark.span_end,
        "memo_version": memo_version if mark.span_start is not None else None,
        "quote": mark.quote,
        "example": mark.example,
        "featured": mark.featured,
    }


async def coders_of(session: AsyncSession, coding: CodingInput) -> list[str]:
    """The coders (not the consensus) who coded the meeting with the codebook version."""
    c = codings.c
    query = select(c.coder_id).where(
        c.codebook_id == coding.codebook_id,
        c.meeting_id == coding.meeting_id,
        c.coder_id != CONSENSUS,
    )
    return sorted(await session.scalars(query))


async def record_coding(session: AsyncSession, coding: CodingInput, coder: str) -> str:
    """One coder's coding of a meeting (replacing that coder's earlier one); its id."""
    if coder == CONSENSUS:
        raise ValueError("the consensus is made by reconcile_coding")
    return await _save(session, coding, coder)


async def reconcile_coding(session: AsyncSession, coding: CodingInput, by: str) -> str:
    """The consensus coding of a meeting coded by two or more coders; its id."""
    return await _save(session, coding, CONSENSUS, reconciled_by=by)


async def set_featured(session: AsyncSession, mark_id: str, featured: bool) -> None:
    """Choose (or unchoose) a consensus mark as an example for Table 1."""
    m, c = coding_marks.c, codings.c
    found = (
        await session.execute(
            select(c.coder_id, c.meeting_id)
            .select_from(coding_marks.join(codings, c.id == m.coding_id))
            .where(m.id == mark_id)
        )
    ).first()
    if found is None or found.coder_id != CONSENSUS:
        raise NotAConsensusMark(mark_id=mark_id)
    await session.execute(update(coding_marks).where(m.id == mark_id).values(featured=featured))
    await _counted_again(session, found.meeting_id)


def coded_marks(codebook_id: str, coder: str | None = None) -> Select[Any]:
    """The marks of one codebook version as the research views count them: the consensus
    coding of each meeting by default, ``coder``'s own coding when given. Columns:
    ``mark_id, coding_id, meeting_id, region, group_id, code, example, quote, featured,
    coder_id`` (join ``meetings`` on ``meeting_id`` for its date). Meetings coded with
    nothing found have no marks; :func:`coded_units` lists every coded meeting."""
    c, m = codings.c, coding_marks.c
    return (
        select(
            m.id.label("mark_id"),
            c.id.label("coding_id"),
            c.meeting_id,
            c.region,
            c.group_id,
            m.code,
            m.example,
            m.quote,
            m.featured,
            c.coder_id,
        )
        .select_from(codings.join(coding_marks, m.coding_id == c.id))
        .where(c.codebook_id == codebook_id, c.coder_id == (coder or CONSENSUS))
    )


def coded_units(codebook_id: str, coder: str | None = None) -> Select[Any]:
    """The meetings coded (with or without findings) with one codebook version: the
    consensus by default, or ``coder``'s. Columns: ``coding_id, meeting_id, region,
    group_id, nothing_found, coder_id``."""
    c = codings.c
    return select(
        c.id.label("coding_id"), c.meeting_id, c.region, c.group_id, c.nothing_found, c.coder_id
    ).where(c.codebook_id == codebook_id, c.coder_id == (coder or CONSENSUS))


async def codings_for_agreement(
    session: AsyncSession, codebook_id: str, scope: Scope, guard: Guard
) -> dict[str, dict[str, frozenset[str]]]:
    """meeting -> coder -> codes of every coder's coding (not the consensus) in ``scope``."""
    c, m = codings.c, coding_marks.c
    query = (
        select(c.meeting_id, c.coder_id, m.code)
        .select_from(
            codings.join(meetings, meetings.c.id == c.meeting_id).outerjoin(
                coding_marks, m.coding_id == c.id
            )
        )
        .where(
            c.codebook_id == codebook_id,
            c.coder_id != CONSENSUS,
            *scope.coding_terms(c.region, c.group_id),
            *scope.meeting_terms(guard),
        )
    )
    found: dict[str, dict[str, set[str]]] = {}
    for meeting, coder, code in await session.execute(query):
        codes = found.setdefault(meeting, {}).setdefault(coder, set())
        if code is not None:
            codes.add(code)
    return {
        meeting: {coder: frozenset(codes) for coder, codes in by.items()}
        for meeting, by in found.items()
    }
