"""Exports of the meetings' texts and the researchers' coding workspace: ``memos``,
``codings`` and ``coding_marks``.

Their rules are GraphQL's: a memo's (masked, national) text is a row of its region, for
those who see that region in full (its agency, researchers), like the ``memos`` field;
codings and their marks carry coder pseudonyms and are the researchers' workspace
(``meetingCodings``), so only researchers export them, whatever their region. Everything
about a meeting is dated by its day in Europe/Helsinki (:func:`day_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select

from services.gateway.auth.guard import Level
from services.gateway.exports.dataset import GROUP, MEETING, REGION, Column, Dataset, column
from services.gateway.orm import meetings, memos
from services.gateway.research.tables import (
    CONSENSUS,
    codebooks,
    coding_marks,
    codings,
)
from services.gateway.views.days import day_of

MEETING_DAY = column("meeting_day", "date", "Day of the meeting (Europe/Helsinki)")
CODING = column("coding_id", "id", "Id of the coding (one coder, one meeting, one codebook)")
CODEBOOK = column("codebook", "string", "Key of the codebook (e.g. wenger)")
CODEBOOK_VERSION = column("codebook_version", "integer", "Version of the codebook coded with")
CODER = column(
    "coder_id", "id", f"Pseudonym of the researcher who coded, or '{CONSENSUS}' (reconciled)"
)
IS_CONSENSUS = column("consensus", "boolean", "The reconciled coding the views count")


def _dated(at: int, consensus: int | None = None) -> Any:
    """The row with its column ``at`` (a meeting's start) as the Helsinki day and, if
    given, column ``consensus`` as a boolean (SQLite gives 0/1)."""

    def derive(row: Row[Any]) -> Sequence[Any]:
        values = list(row)
        values[at] = None if values[at] is None else day_of(values[at])
        if consensus is not None:
            values[consensus] = bool(values[consensus])
        return values

    return derive


def _names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name for c in columns]


_MEMOS = (
    MEETING,
    REGION,
    GROUP,
    MEETING_DAY,
    column("version", "integer", "The memo's version (the meeting's event sequence)"),
    column("published_at", "timestamp", "When this version was published (UTC)"),
    column("text", "string", "The memo's text as the nation holds it (personal data masked)"),
)
_m = memos.c
MEMOS = Dataset(
    "memos",
    "Meeting memos, the newest version of each, in their national (masked) text; "
    "dated by the meeting's day. Rows of a region: its agency and researchers.",
    _MEMOS,
    select(
        _m.meeting_id,
        _m.region,
        _m.group_id,
        meetings.c.starts_at.label("meeting_day"),
        _m.version,
        _m.published_at,
        _m.summary.label("text"),
    )
    .select_from(memos.outerjoin(meetings, meetings.c.id == _m.meeting_id))
    .order_by(meetings.c.starts_at, _m.meeting_id),
    region=_m.region,
    level=Level.FULL,
    derive=_dated(_names(_MEMOS).index("meeting_day")),
)

_CODINGS = (
    CODING,
    CODEBOOK,
    CODEBOOK_VERSION,
    MEETING,
    REGION,
    GROUP,
    MEETING_DAY,
    CODER,
    IS_CONSENSUS,
    column("nothing_found", "boolean", "Coded, and none of the codebook's codes found"),
    column("marks", "integer", "Codes applied (passages and whole-meeting marks)"),
    column("reconciled_by", "id", "Consensus: pseudonym of the researcher who reconciled it"),
    column("note", "string", "The coder's note"),
    column("coded_at", "timestamp", "When the coding was saved (UTC)"),
)
_c, _k = codings.c, coding_marks.c
_marks = select(func.count()).where(_k.coding_id == _c.id).scalar_subquery()
_book = codebooks.join(codings, _c.codebook_id == codebooks.c.id).outerjoin(
    meetings, meetings.c.id == _c.meeting_id
)
CODINGS = Dataset(
    "codings",
    "Codings of meetings with a codebook: one row per coder and meeting (the consensus "
    "too), 'coded, nothing found' included. The researchers' workspace: researchers only.",
    _CODINGS,
    select(
        _c.id,
        codebooks.c.key.label("codebook"),
        codebooks.c.version.label("codebook_version"),
        _c.meeting_id,
        _c.region,
        _c.group_id,
        meetings.c.starts_at.label("meeting_day"),
        _c.coder_id,
        (_c.coder_id == CONSENSUS).label("consensus"),
        _c.nothing_found,
        _marks.label("marks"),
        _c.reconciled_by,
        _c.note,
        _c.coded_at,
    )
    .select_from(_book)
    .order_by(
        codebooks.c.key, codebooks.c.version, meetings.c.starts_at, _c.meeting_id, _c.coder_id
    ),
    region=_c.region,
    level=Level.FULL,
    derive=_dated(_names(_CODINGS).index("meeting_day"), _names(_CODINGS).index("consensus")),
    researchers_only=True,
)

_MARKS = (
    column("id", "id", "Id of the mark"),
    CODING,
    CODEBOOK,
    CODEBOOK_VERSION,
    MEETING,
    REGION,
    GROUP,
    MEETING_DAY,
    CODER,
    IS_CONSENSUS,
    column("code", "string", "The codebook's code applied"),
    column("span_start", "integer", "Passage: first character in the memo text (from 0)"),
    column("span_end", "integer", "Passage: character after its last (null: whole meeting)"),
    column("memo_version", "integer", "Passage: the memo version its offsets refer to"),
    column("quote", "string", "Passage: the memo's text between the offsets"),
    column("example", "string", "The coder's example text for the code"),
    column("featured", "boolean", "Chosen as an example for Table 1 (consensus marks)"),
)
CODING_MARKS = Dataset(
    "coding_marks",
    "The codes each coding applied, to a memo passage (character offsets) or to the "
    "whole meeting. The researchers' workspace: researchers only.",
    _MARKS,
    select(
        _k.id,
        _k.coding_id,
        codebooks.c.key.label("codebook"),
        codebooks.c.version.label("codebook_version"),
        _c.meeting_id,
        _c.region,
        _c.group_id,
        meetings.c.starts_at.label("meeting_day"),
        _c.coder_id,
        (_c.coder_id == CONSENSUS).label("consensus"),
        _k.code,
        _k.span_start,
        _k.span_end,
        _k.memo_version,
        _k.quote,
        _k.example,
        _k.featured,
    )
    .select_from(_book.join(coding_marks, _k.coding_id == _c.id))
    .order_by(
        codebooks.c.key,
        codebooks.c.version,
        meetings.c.starts_at,
        _c.meeting_id,
        _c.coder_id,
        _k.span_start,
        _k.code,
        _k.id,
    ),
    region=_c.region,
    level=Level.FULL,
    derive=_dated(_names(_MARKS).index("meeting_day"), _names(_MARKS).index("consensus")),
    researchers_only=True,
)

WORKSPACE_DATASETS: dict[str, Dataset] = {d.name: d for d in (MEMOS, CODINGS, CODING_MARKS)}
