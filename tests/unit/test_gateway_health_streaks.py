"""Group health's streaks, computed in SQL (window functions: islands of consecutive held
meetings), against brute force in Python over random groups, on SQLite and PostgreSQL: the
whole period and one cut out of it, same-day meetings, cancelled ones, attendees who are not
the group's members, members who never came."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.gateway.orm import attendance, fact_meetings, members, metadata
from services.gateway.views import queries
from services.gateway.views.queries import NATION, Scope
from shared.storage import create_engine, create_schema, session_factory

START = date(2020, 1, 1)


def _world(seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    people, held, came = [], [], []
    for g in range(6):
        group = f"g{g}"
        ids = [f"{group}-p{i}" for i in range(rng.randint(0, 7))]
        for pid in ids:
            status = rng.choice(["ACTIVE", "ACTIVE", "PAUSED", "LEFT"])
            people.append(
                {
                    "id": pid,
                    "region": "r",
                    "group_id": group,
                    "active": status == "ACTIVE",
                    "status": status,
                    "joined_on": START,
                    "left_on": START + timedelta(days=300) if status == "LEFT" else None,
                    "version": 1,
                }
            )
        strangers = [f"{group}-x{i}" for i in range(2)]  # attend, but not members here
        for n in range(rng.randint(0, 30)):
            day = START + timedelta(days=rng.randint(0, 90))  # same days happen
            starts = datetime(day.year, day.month, day.day, rng.choice([9, 17]), tzinfo=UTC)
            is_held = rng.random() < 0.8
            host = rng.choice([*ids, None]) if is_held and ids else None
            meeting = f"{group}-m{n:02d}"
            held.append(
                {
                    "meeting_id": meeting,
                    "region": "r",
                    "group_id": group,
                    "day": day,
                    "month": f"{day:%Y-%m}",
                    "day_number": (day - START).days,
                    "starts_at": starts,
                    "status": "HELD" if is_held else "CANCELLED",
                    "held": int(is_held),
                    "cancelled": int(not is_held),
                    "host_member_id": host,
                    "attendees": 0,
                    "expected": len(ids),
                }
            )
            for pid in [*ids, *strangers]:
                if rng.random() < 0.7:
                    came.append({"meeting_id": meeting, "member_id": pid})
    return people, held, came


def _brute(
    people: list[dict[str, Any]], held: list[dict[str, Any]], came: list[dict[str, Any]], s: Scope
) -> dict[tuple[str, str], tuple[int, int, bool]]:
    """Per (group, member): longest run, latest run, hosted; meeting by meeting."""
    found = {}
    attended = {(c["meeting_id"], c["member_id"]) for c in came}
    for p in people:
        mine = sorted(
            (
                m
                for m in held
                if m["group_id"] == p["group_id"]
                and m["held"] == 1
                and (s.from_ is None or m["day"] >= s.from_)
                and (s.to is None or m["day"] <= s.to)
            ),
            key=lambda m: (m["day_number"], m["starts_at"], m["meeting_id"]),
        )
        run = best = 0
        for m in mine:
            run = run + 1 if (m["meeting_id"], p["id"]) in attended else 0
            best = max(best, run)
        hosted = any(m["host_member_id"] == p["id"] for m in mine)
        found[(p["group_id"], p["id"])] = (best, run, hosted)
    return found


async def test_streaks_in_sql_are_those_counted_meeting_by_meeting(
    make_database_url: Any,
) -> None:
    engine = create_engine(await make_database_url("streaks"))
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    try:
        for seed in range(4):
            people, held, came = _world(seed)
            async with sessions() as session, session.begin():
                for table in (attendance, fact_meetings, members):
                    await session.execute(table.delete())
                for table, rows in ((members, people), (fact_meetings, held), (attendance, came)):
                    if rows:
                        await session.execute(table.insert(), rows)
            groups = sorted({p["group_id"] for p in people} | {"nobody"})
            for scope in (NATION, Scope(None, None, date(2020, 1, 20), date(2020, 3, 10))):
                async with sessions() as session:
                    rows = (await session.execute(queries.health_members(scope, groups))).all()
                got = {
                    (r.group_id, r.id): (r.longest_streak, r.current_streak, bool(r.hosted))
                    for r in rows
                }
                want = _brute(people, held, came, scope)
                assert got == want, (seed, scope)
                assert any(v[0] > 1 for v in want.values())  # runs longer than one happen
                assert any(v[1] == 0 < v[0] for v in want.values())  # and end before the last
    finally:
        await engine.dispose()
