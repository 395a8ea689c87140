"""Keeping the research views: refresh the regions a batch touched, rebuild them all.

:func:`refresh` runs inside the projection's transaction (after every family has applied
the batch): it reads the touched regions' rows of the read model, computes their views
(:mod:`services.gateway.views.compute`) and replaces their view rows. So the views commit
with the events that changed them, or not at all, and they are idempotent and
order-tolerant by construction: they are a function of the read model, which is.

:func:`rebuild` does the same for every region (after a migration that adds a view, or by
hand); :func:`rebuild_if_marked` runs it once when migration 0004 (or a later one) has
marked the views for a rebuild, at the gateway's start.

National rows: the tables whose national answer would otherwise sum a row per region
(:data:`ROLLUPS`) also hold rows with ``region = '*'`` (no region id can be that), the sums
over all regions, kept by adding each refresh's difference (new rows minus old) to them. They
are read-modify-written by the one consumer of the gateway (on PostgreSQL under
``SELECT ... FOR UPDATE``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.orm import (
    VIEW_TABLES,
    activities,
    attendance,
    groups,
    initiative_members,
    initiatives,
    meetings,
    members,
    regions,
    survey_responses,
    surveys,
    view_cop_cells,
    view_feedback_months,
    view_region_months,
    view_state,
)
from services.gateway.views import compute as c

log = logging.getLogger(__name__)


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


STATE = "research"  # the view_state row of these views
REGIONS_PER_STEP = 50  # regions read and written together by a rebuild
NATIONAL = "*"
# table -> (key columns besides region, summed columns) of its national rows
ROLLUPS: dict[Table, tuple[tuple[str, ...], tuple[str, ...]]] = {
    view_cop_cells: (("year", "activity_type"), ("activities", "meetings", "groups")),
    view_region_months: (
        ("month",),
        ("groups_meeting", "meetings_held", "meetings_cancelled", "attendees", "expected"),
    ),
    view_feedback_months: (
        ("month",),
        (
            "surveys",
            "surveys_withheld",
            "invited",
            "responses",
            "overall_sum",
            "usefulness_sum",
            "recommend_sum",
            "promoters",
            "detractors",
        ),
    ),
}


async def refresh(session: AsyncSession, region_ids: Iterable[str]) -> None:
    """Recompute the views of ``region_ids`` from the read model, in ``session``'s
    transaction."""
    wanted = sorted(set(region_ids) - {NATIONAL})
    for chunk in chunks(wanted, REGIONS_PER_STEP):
        data = await load(session, chunk)
        old = {
            table: [
                r._asdict()
                for r in await session.execute(select(table).where(table.c.region.in_(chunk)))
            ]
            for table in ROLLUPS
        }
        for table in VIEW_TABLES:
            await session.execute(delete(table).where(table.c.region.in_(chunk)))
        rows: dict[str, list[c.Row]] = {t.name: [] for t in VIEW_TABLES}
        for region in chunk:
            for name, found in c.compute(data[region]).items():
                rows[name].extend(found)
        for table in VIEW_TABLES:
            if rows[table.name]:
                await session.execute(insert(table), rows[table.name])
        for table, (keys, sums) in ROLLUPS.items():
            await _add_to_national(session, table, keys, sums, old[table], rows[table.name])


async def _add_to_national(
    session: AsyncSession,
    table: Table,
    keys: tuple[str, ...],
    sums: tuple[str, ...],
    old: list[c.Row],
    new: list[c.Row],
) -> None:
    """National rows += sums of ``new`` - sums of ``old``; rows that fall to 0 go."""
    delta: dict[tuple[object, ...], list[int]] = defaultdict(lambda: [0] * len(sums))
    for sign, rows in ((-1, old), (1, new)):
        for row in rows:
            cell = delta[tuple(row[k] for k in keys)]
            for i, name in enumerate(sums):
                cell[i] += sign * row[name]
    changed = {k: d for k, d in delta.items() if any(d)}
    if not changed:
        return
    query = select(table).where(table.c.region == NATIONAL).with_for_update()
    current = {
        tuple(r._mapping[k] for k in keys): r._asdict() for r in await session.execute(query)
    }
    for key, diff in changed.items():
        if key not in current:
            current[key] = {"region": NATIONAL, **dict(zip(keys, key, strict=True))}
            current[key].update(dict.fromkeys(sums, 0))
            if "example" in table.c:
                current[key]["example"] = ""  # national examples: read from the regions' rows
        row = current[key]
        for name, value in zip(sums, diff, strict=True):
            row[name] += value
    await session.execute(delete(table).where(table.c.region == NATIONAL))
    keep = [r for r in current.values() if any(r[name] for name in sums)]
    if keep:
        await session.execute(insert(table), keep)


async def rebuild(session: AsyncSession) -> int:
    """Recompute every region's views; returns how many regions there were."""
    for table in VIEW_TABLES:
        await session.execute(delete(table))
    found: set[str] = set()
    for table in (regions,):
        found.update(r for (r,) in await session.execute(select(table.c.id)))
    for table in (groups, members, meetings, activities, surveys, initiatives):
        found.update(r for (r,) in await session.execute(select(table.c.region).distinct()))
    await refresh(session, found)
    await session.execute(
        update(view_state)
        .where(view_state.c.name == STATE)
        .values(needs_rebuild=False, rebuilt_at=datetime.now(UTC))
    )
    return len(found)


async def rebuild_if_marked(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Rebuild once if a migration marked the views (``view_state.needs_rebuild``)."""
    async with sessions() as session, session.begin():
        marked = await session.scalar(
            select(view_state.c.needs_rebuild).where(view_state.c.name == STATE)
        )
        if not marked:
            return False
        started = datetime.now(UTC)
        count = await rebuild(session)
    log.info(
        "research views rebuilt for %d regions in %.1fs",
        count,
        (datetime.now(UTC) - started).total_seconds(),
    )
    return True


async def load(session: AsyncSession, region_ids: Sequence[str]) -> dict[str, c.RegionData]:
    """Every read-model row the views of ``region_ids`` are computed from."""
    data = {r: c.RegionData(region=r) for r in region_ids}
    ids = list(region_ids)
    for region, group_id in await session.execute(
        select(groups.c.region, groups.c.id).where(groups.c.region.in_(ids))
    ):
        data[region].groups.append(group_id)
    m = members.c
    for row in await session.execute(
        select(m.region, m.id, m.group_id, m.status, m.joined_on, m.left_on).where(
            m.region.in_(ids)
        )
    ):
        data[row.region].members.append(
            c.Member(row.id, row.group_id, row.status, row.joined_on, row.left_on)
        )
    mt = meetings.c
    for row in await session.execute(
        select(mt.region, mt.id, mt.group_id, mt.status, mt.starts_at, mt.host_member_id).where(
            mt.region.in_(ids)
        )
    ):
        data[row.region].meetings.append(
            c.Meeting(row.id, row.group_id, row.status, c.utc(row.starts_at), row.host_member_id)
        )
    for region, meeting_id, member_id in await session.execute(
        select(mt.region, attendance.c.meeting_id, attendance.c.member_id)
        .join(meetings, mt.id == attendance.c.meeting_id)
        .where(mt.region.in_(ids), mt.status == c.HELD)
    ):
        data[region].attendance.append((meeting_id, member_id))
    a = activities.c
    for act in await session.execute(
        select(
            a.region,
            a.id,
            a.group_id,
            a.meeting_id,
            a.activity_type,
            a.example,
            a.coder_id,
            a.meeting_starts_at,
        ).where(a.region.in_(ids))
    ):
        data[act.region].activities.append(
            c.Activity(
                act.id,
                act.group_id,
                act.meeting_id,
                act.activity_type,
                act.example,
                act.coder_id,
                c.utc(act.meeting_starts_at),
            )
        )
    s = surveys.c
    for sv in await session.execute(
        select(s.region, s.id, s.group_id, s.invited, s.closed_at).where(s.region.in_(ids))
    ):
        data[sv.region].surveys.append(c.Survey(sv.id, sv.group_id, sv.invited, sv.closed_at))
    r = survey_responses.c
    for resp in await session.execute(
        select(r.region, r.survey_id, r.overall, r.usefulness, r.recommend).where(r.region.in_(ids))
    ):
        data[resp.region].responses.append(
            c.Response(resp.survey_id, resp.overall, resp.usefulness, resp.recommend)
        )
    i = initiatives.c
    for region, initiative_id, status in await session.execute(
        select(i.region, i.id, i.status).where(i.region.in_(ids))
    ):
        data[region].initiatives.append(c.Initiative(initiative_id, status))
    for region, initiative_id, member_id in await session.execute(
        select(i.region, initiative_members.c.initiative_id, initiative_members.c.member_id)
        .join(initiatives, i.id == initiative_members.c.initiative_id)
        .where(i.region.in_(ids))
    ):
        data[region].initiative_members.append((initiative_id, member_id))
    return data
