"""Synthetic but realistic event streams for benchmarks: groups, members, monthly meetings."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from shared.contracts import (
    Envelope,
    GroupCreated,
    MeetingHeld,
    MeetingScheduled,
    MemberJoined,
    make_envelope,
)


def region_events(
    region: str, n: int, *, members_per_group: int = 15, seed: int = 1
) -> Iterator[Envelope]:
    """About ``n`` envelopes: per group, its creation, its members, then meetings
    (scheduled + held with attendance), the mix a real region produces."""
    rng = random.Random(seed)
    produced = 0
    while produced < n:
        group_id = uuid4()
        founded = date(2015, 1, 1) + timedelta(days=rng.randrange(365))
        yield make_envelope(
            GroupCreated(group_id=group_id, name=f"group {produced}", founded_on=founded),
            region=region,
            aggregate_id=group_id,
            sequence=1,
        )
        produced += 1
        members = [uuid4() for _ in range(members_per_group)]
        for member_id in members:
            yield make_envelope(
                MemberJoined(
                    member_id=member_id,
                    group_id=group_id,
                    joined_on=founded,
                    employees=rng.randrange(10),
                    turnover_eur=rng.randrange(2_000_000),
                ),
                region=region,
                aggregate_id=member_id,
                sequence=1,
            )
        produced += len(members)
        starts = datetime(founded.year, founded.month, 15, 15, 30, tzinfo=UTC)
        for month in range(60):
            if produced >= n:
                return
            meeting_id = uuid4()
            when = starts + timedelta(days=30 * month)
            yield make_envelope(
                MeetingScheduled(
                    meeting_id=meeting_id,
                    group_id=group_id,
                    host_member_id=members[month % len(members)],
                    theme="Pricing",
                    starts_at=when,
                ),
                region=region,
                aggregate_id=meeting_id,
                sequence=1,
            )
            yield make_envelope(
                MeetingHeld(
                    meeting_id=meeting_id,
                    group_id=group_id,
                    held_at=when,
                    attendee_member_ids=tuple(rng.sample(members, 9)),
                ),
                region=region,
                aggregate_id=meeting_id,
                sequence=2,
            )
            produced += 2
