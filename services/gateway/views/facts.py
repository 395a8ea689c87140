"""Keeping the research facts from what each batch changed (not by recomputing regions).

The views (:mod:`services.gateway.views.queries`) are queries over four fact tables, each row
dated by its meeting's day in Europe/Helsinki:

- ``fact_meetings``: one row per meeting: status, host, attendees, *expected* (the group's
  members on the meeting's day);
- ``fact_surveys``: one row per survey: counted (closed with >= K_ANONYMITY responses) or
  withheld, and the sums of counted ones;
- ``fact_cop``: one row per meeting x coder x Wenger type: activities, an example, and
  whether this coder is the one the views count for the meeting (the consensus coding of
  the researchers' workspace where there is one, :mod:`.consensus`; else its first coder);
- ``fact_coding``: one row per meeting x coder pair x type: the 2x2 cell it falls in.

:func:`touched` names the units an event batch can have changed; :func:`apply` recomputes
exactly those rows from the read model (after the families have applied the batch, in the
same transaction): the meetings the batch scheduled, moved, held or cancelled; every meeting
of a group whose membership changed (its expected attendance); the surveys the batch
touched and those of moved meetings; the CoP and coding rows of meetings with new
activities, a new day or a saved coding (the workspace calls :func:`apply` when a coding is
saved or reconciled, in its own transaction). A unit's rows are a function of the read
model, so duplicates, re-sent batches and any order leave the same facts. The cost of a
batch depends on the units it touches (and a group's own history), not on its region's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import combinations
from typing import Any

from sqlalchemy import Integer, Table, delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.orm import (
    FACT_TABLES,
    activities,
    fact_coding,
    fact_cop,
    fact_meetings,
    fact_surveys,
    meetings,
    members,
    survey_responses,
    surveys,
    view_state,
)
from services.gateway.projections.groups import MEMBER_EVENTS
from services.gateway.projections.meetings import MOVES_START
from services.gateway.projections.sql import chunks
from services.gateway.research import counts
from services.gateway.research.coding import shown_example
from services.gateway.research.tables import codings, fact_coded, fact_marks
from services.gateway.views import rollups
from services.gateway.views.compute import K_ANONYMITY, WENGER_TYPES
from services.gateway.views.consensus import CONSENSUS, Consensus, consensus_meetings, consensus_of
from services.gateway.views.days import day_of, month_of_day
from shared.contracts import (
    ActivityRecorded,
    AttendanceCorrected,
    DecodedEvent,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
)
from shared.storage.bulk import insert_rows
from shared.storage.keys import among

STATE = "research"  # the view_state row of the facts
HELD, CANCELLED, LEFT = "HELD", "CANCELLED", "LEFT"
Row = dict[str, Any]


@dataclass
class Touched:
    """Units whose facts a batch may have changed (ids as text)."""

    # scheduled, moved, held, cancelled, attendance corrected
    meetings: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)  # membership changed: expected attendance
    surveys: set[str] = field(default_factory=set)
    coded: set[str] = field(default_factory=set)  # meetings with new activities or codings

    def __bool__(self) -> bool:
        return bool(self.meetings or self.groups or self.surveys or self.coded)


def touched(events: Iterable[DecodedEvent]) -> Touched:
    found = Touched()
    for decoded in events:
        event: Any = decoded.event
        if isinstance(event, (*MOVES_START, AttendanceCorrected)):
            found.meetings.add(str(event.meeting_id))
        elif isinstance(event, MEMBER_EVENTS):
            found.groups.add(str(event.group_id))
        elif isinstance(event, SurveyOpened | SurveyClosed | ResponseSubmitted):
            found.surveys.add(str(event.survey_id))
        elif isinstance(event, ActivityRecorded):
            found.coded.add(str(event.meeting_id))
    return found


async def apply(session: AsyncSession, units: Touched) -> None:
    """Recompute the facts of ``units`` from the read model, in ``session``'s transaction."""
    if not units:
        return
    changed = rollups.Changed()
    await _meetings(session, sorted(units.meetings), sorted(units.groups), changed=changed)
    survey_ids = set(units.surveys)
    if units.meetings:  # moved meetings move their surveys
        query = select(fact_surveys.c.survey_id).where(
            among(session, fact_surveys.c.meeting_id, sorted(units.meetings))
        )
        survey_ids.update(await session.scalars(query))
    await _surveys(session, sorted(survey_ids), changed=changed)
    coded = await _with_codings(session, sorted(units.coded | units.meetings))
    await _cop(session, coded, changed=changed)
    await rollups.update(session, changed)
    await counts.recount(session, coded)


async def _with_codings(session: AsyncSession, meeting_ids: Sequence[str]) -> list[str]:
    """Those of ``meeting_ids`` with activities, codings or CoP, coding or workspace facts:
    the others have none to recompute (most meetings a batch touches: one query instead
    of the six per batch that found nothing)."""
    if not meeting_ids:
        return []
    found = union(
        *(
            select(table.c.meeting_id).where(among(session, table.c.meeting_id, meeting_ids))
            for table in (activities, codings, fact_cop, fact_coding, fact_marks, fact_coded)
        )
    )
    return sorted(await session.scalars(select(found.subquery().c.meeting_id)))


async def rebuild(session: AsyncSession) -> int:
    """Recompute every fact from the read model; returns the meetings there were."""
    count = await rebuild_regional(session)
    await rebuild_national(session)
    return count


async def rebuild_regional(session: AsyncSession) -> int:
    """Recompute the facts that depend on each region's own rows alone (the unit facts,
    the groups' and regions' roll-ups), for all the regions in the read model; returns the
    meetings there were. A rebuild's partition (a copy holding some regions) computes its
    own, merged with the others' before :func:`rebuild_national`."""
    for table in FACT_TABLES:
        await session.execute(delete(table))
    count = await _all_meetings(session)
    await _surveys(session, sorted(await session.scalars(select(surveys.c.id))), fresh=True)
    coded = set(await session.scalars(select(activities.c.meeting_id).distinct()))
    await _cop(session, sorted(coded | await consensus_meetings(session)), fresh=True)
    await rollups.rebuild(session)
    return count


async def rebuild_national(session: AsyncSession) -> None:
    """The facts over every region, once :func:`rebuild_regional` has computed (or merged)
    every region's: the nation's roll-ups (summed from the regions'), the workspace's facts,
    and the facts marked current."""
    await rollups.rebuild_nation(session)
    await counts.rebuild(session)
    await session.execute(
        update(view_state)
        .where(view_state.c.name == STATE)
        .values(needs_rebuild=False, rebuilt_at=datetime.now(UTC))
    )


async def _replace(
    session: AsyncSession,
    table: Table,
    key: str,
    ids: Sequence[str],
    rows: list[Row],
    fresh: bool,
    changed: rollups.Changed | None = None,
) -> None:
    """Replace the rows of ``ids`` by ``rows``; the group months of both go to ``changed``
    (what :func:`rollups.update` sums again)."""
    if not fresh and ids:
        gone = delete(table).where(among(session, table.c[key], ids))
        if changed is None:
            await session.execute(gone)
        else:
            returned = gone.returning(table.c.group_id, table.c.day)
            for group_id, day in await session.execute(returned):
                changed.add(group_id, day, cop=table is fact_cop)
    if changed is not None:
        for row in rows:
            changed.add(row["group_id"], row["day"], cop=table is fact_cop)
    await insert_rows(session, table, rows)


# -- meetings -------------------------------------------------------------------------------


_m = meetings.c
_MEETING_COLUMNS = (
    _m.id,
    _m.region,
    _m.group_id,
    _m.status,
    _m.starts_at,
    _m.host_member_id,
    _m.attendance_count,
)


def _meeting_row(r: Any, expected: Callable[[date], int]) -> Row:
    """A meeting's fact row; ``expected(day)``: the group's members on the meeting's day
    (asked only for a held meeting)."""
    day = day_of(r.starts_at)
    is_held = r.status == HELD
    return {
        "meeting_id": r.id,
        "region": r.region,
        "group_id": r.group_id,
        "day": day,
        "month": month_of_day(day),
        "day_number": day.toordinal(),
        "starts_at": _utc(r.starts_at),
        "status": r.status,
        "held": int(is_held),
        "cancelled": int(r.status == CANCELLED),
        "host_member_id": r.host_member_id if is_held else None,
        # the newest holding's attendees (meetings projection: the same list as its
        # attendance rows)
        "attendees": (r.attendance_count or 0) if is_held else 0,
        "expected": expected(day) if is_held else 0,
    }


async def _meetings(
    session: AsyncSession,
    ids: Sequence[str],
    groups: Sequence[str] = (),
    fresh: bool = False,
    changed: rollups.Changed | None = None,
) -> None:
    """The rows of meetings ``ids`` and of every meeting of ``groups``."""
    m = meetings.c
    for chunk in chunks(ids) if fresh else [ids]:
        wanted = among(session, m.id, chunk)
        if groups:
            wanted = or_(wanted, among(session, m.group_id, groups))
        found = (await session.execute(select(*_MEETING_COLUMNS).where(wanted))).all()
        rolls = await _rolls_of(session, {r.group_id for r in found if r.status == HELD})
        rows = [_meeting_row(r, rolls[r.group_id].on) for r in found]
        found_ids = [r.id for r in found]
        await _replace(session, fact_meetings, "meeting_id", found_ids, rows, fresh, changed)


REBUILD_PAGE = 20_000  # meetings per read of a rebuild


async def _all_meetings(session: AsyncSession) -> int:
    """Every meeting's fact row, as :func:`_meetings` makes it, for an empty fact table:
    pages of the meetings in id order and one pass over the members, no ``IN`` lists; the
    members on a day counted by bisection (:class:`_Roll`). Returns the meetings there were."""
    m = meetings.c
    rolls = await _rolls_of(session, None)
    count, after = 0, ""
    while True:
        page = (
            await session.execute(
                select(*_MEETING_COLUMNS).where(m.id > after).order_by(m.id).limit(REBUILD_PAGE)
            )
        ).all()
        if not page:
            return count
        rows = [_meeting_row(r, rolls[r.group_id].on) for r in page]
        await insert_rows(session, fact_meetings, rows)
        count += len(page)
        after = page[-1].id


@dataclass
class _Roll:
    """A group's members by day: sorted days they joined, and days from which they count
    as gone (left, at or after joining): on ``day`` = joined by then minus gone by then,
    the members in the group on ``day`` (joined by then and not yet left; pauses count as
    in)."""

    joined: list[date] = field(default_factory=list)
    gone: list[date] = field(default_factory=list)

    def add(self, person: Any) -> None:
        if person.joined_on is None:
            return
        self.joined.append(person.joined_on)
        if person.status == LEFT and person.left_on is not None:
            self.gone.append(max(person.joined_on, person.left_on))

    def on(self, day: date) -> int:
        return bisect_right(self.joined, day) - bisect_right(self.gone, day)


async def _rolls_of(session: AsyncSession, group_ids: set[str] | None) -> dict[str, _Roll]:
    """The members by day (:class:`_Roll`) of ``group_ids`` (None: of every group)."""
    rolls: dict[str, _Roll] = defaultdict(_Roll)
    p = members.c
    query = select(p.group_id, p.status, p.joined_on, p.left_on)
    if group_ids is not None:
        if not group_ids:
            return rolls
        query = query.where(among(session, p.group_id, sorted(group_ids)))
    for person in await session.execute(query):
        rolls[person.group_id].add(person)
    for roll in rolls.values():
        roll.joined.sort()
        roll.gone.sort()
    return rolls


# -- surveys --------------------------------------------------------------------------------


async def _surveys(
    session: AsyncSession,
    ids: Sequence[str],
    fresh: bool = False,
    changed: rollups.Changed | None = None,
) -> None:
    s, r = surveys.c, survey_responses.c
    for chunk in chunks(ids):
        found = (
            await session.execute(
                select(
                    s.id,
                    s.region,
                    s.group_id,
                    s.meeting_id,
                    s.invited,
                    s.opened_at,
                    s.closes_at,
                    s.closed_at,
                ).where(among(session, s.id, chunk))
            )
        ).all()
        answers = {
            row.survey_id: row
            for row in await session.execute(
                select(
                    r.survey_id,
                    func.count().label("n"),
                    func.sum(r.overall).label("overall"),
                    func.sum(r.usefulness).label("usefulness"),
                    func.sum(r.recommend).label("recommend"),
                    func.sum((r.recommend >= 9).cast(Integer)).label("promoters"),
                    func.sum((r.recommend <= 6).cast(Integer)).label("detractors"),
                )
                .where(among(session, r.survey_id, chunk))
                .group_by(r.survey_id)
            )
        }
        starts = dict(
            (
                await session.execute(
                    select(meetings.c.id, meetings.c.starts_at).where(
                        among(session, meetings.c.id, sorted({r.meeting_id for r in found}))
                    )
                )
            ).all()
        )
        rows = []
        for sv in found:
            at = starts.get(sv.meeting_id) or sv.opened_at or sv.closed_at or sv.closes_at
            if at is None:
                continue  # nothing dates it yet; its next event will
            day = day_of(at)
            got = answers.get(sv.id)
            n = got.n if got is not None else 0
            counted = sv.closed_at is not None and n >= K_ANONYMITY
            sums: tuple[int, ...] = (0,) * 7
            if counted and got is not None:
                sums = (
                    sv.invited,
                    n,
                    got.overall,
                    got.usefulness,
                    got.recommend,
                    got.promoters,
                    got.detractors,
                )
            rows.append(
                {
                    "survey_id": sv.id,
                    "region": sv.region,
                    "group_id": sv.group_id,
                    "meeting_id": sv.meeting_id,
                    "day": day,
                    "month": month_of_day(day),
                    "closed": int(sv.closed_at is not None),
                    "counted": int(counted),
                    **dict(
                        zip(
                            rollups.FEEDBACK_SUMS,
                            (int(v) for v in sums),
                            strict=True,
                        )
                    ),
                }
            )
        await _replace(session, fact_surveys, "survey_id", chunk, rows, fresh, changed)


# -- CoP activities and coding ---------------------------------------------------------------


async def _cop(
    session: AsyncSession,
    meeting_ids: Sequence[str],
    fresh: bool = False,
    changed: rollups.Changed | None = None,
) -> None:
    a = activities.c
    for chunk in chunks(meeting_ids):
        per_meeting: dict[str, list[Any]] = defaultdict(list)
        query = select(
            a.id,
            a.region,
            a.group_id,
            a.meeting_id,
            a.activity_type,
            a.example,
            a.coder_id,
            a.meeting_starts_at,
            a.recorded_at,
        ).where(among(session, a.meeting_id, chunk))
        for row in await session.execute(query):
            per_meeting[row.meeting_id].append(row)
        reconciled = await consensus_of(session, chunk)
        cop_rows: list[Row] = []
        coding_rows: list[Row] = []
        for meeting_id in sorted(per_meeting.keys() | reconciled.keys()):
            cop, coding = meeting_facts(
                meeting_id, per_meeting.get(meeting_id, []), reconciled.get(meeting_id)
            )
            cop_rows += cop
            coding_rows += coding
        await _replace(session, fact_cop, "meeting_id", chunk, cop_rows, fresh, changed)
        await _replace(session, fact_coding, "meeting_id", chunk, coding_rows, fresh)


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def meeting_facts(
    meeting_id: str, acts: Sequence[Any], consensus: Consensus | None = None
) -> tuple[list[Row], list[Row]]:
    """The CoP rows (per coder and type) and the coding rows (per coder pair and type) of
    one meeting's activities and its consensus coding. The counted coder: the consensus if
    there is one, else the coder whose first record came first."""
    by_coder: dict[str, list[Any]] = defaultdict(list)
    for x in acts:
        by_coder[x.coder_id or ""].append(x)
    if consensus is not None:
        day = day_of(_utc(consensus.starts_at))
        place = {"region": consensus.region, "group_id": consensus.group_id, "day": day}
        counted = CONSENSUS
    else:
        first = acts[0]
        day = day_of(min(_utc(x.meeting_starts_at) for x in acts))
        place = {"region": first.region, "group_id": first.group_id, "day": day}
        counted = min(by_coder, key=lambda c: (min(_utc(x.recorded_at) for x in by_coder[c]), c))
    cop = []
    for coder, mine in sorted(by_coder.items()):
        cells: dict[str, list[Any]] = defaultdict(list)
        for x in mine:
            cells[x.activity_type].append(x)
        for kind, items in sorted(cells.items()):
            earliest = min(items, key=lambda x: (_utc(x.recorded_at), x.id))
            cop.append(
                {
                    "meeting_id": meeting_id,
                    "coder": coder,
                    "activity_type": kind,
                    **place,
                    "activities": len(items),
                    "example": earliest.example,
                    "counted": int(coder == counted),
                }
            )
    if consensus is not None:
        cop += _consensus_rows(meeting_id, consensus, place)
    seen = {c: {x.activity_type for x in xs} for c, xs in by_coder.items() if c}
    coding = []
    for ca, cb in combinations(sorted(seen), 2):
        for kind in WENGER_TYPES:
            has_a, has_b = kind in seen[ca], kind in seen[cb]
            coding.append(
                {
                    "meeting_id": meeting_id,
                    "coder_a": ca,
                    "coder_b": cb,
                    "activity_type": kind,
                    **place,
                    "both": int(has_a and has_b),
                    "a_only": int(has_a and not has_b),
                    "b_only": int(has_b and not has_a),
                    "neither": int(not has_a and not has_b),
                }
            )
    return cop, coding


def _consensus_rows(meeting_id: str, consensus: Consensus, place: Row) -> list[Row]:
    """The consensus as the meeting's counted coder: per Wenger type, its marks and an
    example (a chosen one first, then one with text, then by mark id)."""
    cells: dict[str, list[Any]] = defaultdict(list)
    for mark in consensus.marks:
        if mark.code in WENGER_TYPES:
            cells[mark.code].append(mark)
    return [
        {
            "meeting_id": meeting_id,
            "coder": CONSENSUS,
            "activity_type": kind,
            **place,
            "activities": len(marks),
            "example": shown_example(marks),
            "counted": 1,
        }
        for kind, marks in sorted(cells.items())
    ]
