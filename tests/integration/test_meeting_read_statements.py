"""What the meetings API's reads cost in SQL statements, counted on a real database (SQLite
and PostgreSQL): a page of meetings reads the lists a query asks for, once for all its
meetings, and none it does not ask for (issue 9 part 10: the console's meeting lists, its
home page and its feedback list ask for ``id theme`` or ``attendanceCount`` only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.meetings import handlers as meetings
from services.meetings.api import MeetingsContext, schema
from services.meetings.api.lists import MeetingLists
from services.meetings.commands import (
    AgreeAction,
    Node,
    RecordMeetingHeld,
    RecordRsvp,
    ScheduleMeeting,
)
from services.meetings.orm import TABLES as MEETINGS_TABLES
from services.meetings.orm import Base as MeetingsBase
from shared.contracts import GroupCreated, MemberJoined
from shared.runtime import UnitOfWork
from shared.storage import create_engine, create_schema, session_factory
from tests.integration.test_write_path_statements import REGION, TZ, counting, decoded

MEETINGS = 12
MEMBERS = 6


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await create_schema(engine, MeetingsBase.metadata)
    try:
        yield engine
    finally:
        await engine.dispose()


async def held_meetings(engine: AsyncEngine) -> tuple[UUID, list[UUID], list[UUID]]:
    """A group of ``MEMBERS`` with ``MEETINGS`` held meetings (everyone came, two RSVPs
    each, an open follow-up in each) and one planned; its id, the members', the meetings'."""
    sessions = session_factory(engine)
    node = Node(region=REGION, tz=TZ)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions, MEETINGS_TABLES.outbox)

    group_id, members = uuid4(), [uuid4() for _ in range(MEMBERS)]
    created = GroupCreated(group_id=group_id, name="Oulu 1", founded_on=date(2015, 1, 1))
    joined = [
        decoded(
            MemberJoined(member_id=m, group_id=group_id, joined_on=date(2020, 1, 1), employees=2),
            m,
            1,
        )
        for m in members
    ]
    await meetings.apply_groups_events([decoded(created, group_id, 1), *joined], uow())
    start = datetime(2024, 1, 10, 16, tzinfo=UTC)
    ids = []
    for n in range(MEETINGS + 1):
        scheduled = await meetings.schedule_meeting(
            ScheduleMeeting(
                group_id, members[n % MEMBERS], f"Theme {n}", start + n * timedelta(days=30)
            ),
            uow(),
            node,
        )
        for member in members[:2]:
            await meetings.record_rsvp(RecordRsvp(scheduled.id, member, True), uow(), node)
        if n < MEETINGS:
            await meetings.record_meeting_held(
                RecordMeetingHeld(scheduled.id, tuple(members)), uow(), node
            )
            await meetings.agree_action(
                AgreeAction(scheduled.id, members[0], f"Follow-up {n}", None), uow(), node
            )
        ids.append(scheduled.id)
    return group_id, members, ids


async def ask(engine: AsyncEngine, query: str, **variables: Any) -> tuple[dict[str, Any], int]:
    """The answer of ``query`` in one request of the API, and how many statements it took."""
    sessions = session_factory(engine)
    context = MeetingsContext(
        sessions=sessions,
        unit_of_work=lambda: UnitOfWork(sessions, MEETINGS_TABLES.outbox),
        node=Node(region=REGION, tz=TZ),
        lists=MeetingLists(sessions),
    )
    with counting(engine) as statements:
        result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data, len(statements)


async def test_a_page_of_meetings_reads_only_the_lists_it_asks_for(engine: AsyncEngine):
    group_id, members, ids = await held_meetings(engine)
    g = str(group_id)

    themes, bare = await ask(engine, "query($g: UUID!) { meetings(groupId: $g) { id theme } }", g=g)
    assert len(themes["meetings"]) == MEETINGS + 1
    assert bare == 1  # the meetings' rows only: no attendees, no RSVPs

    counted, with_counts = await ask(
        engine, "query($g: UUID!) { meetings(groupId: $g) { id attendanceCount } }", g=g
    )
    assert with_counts == 2  # one count per meeting, in one statement for all of them
    counts = {m["id"]: m["attendanceCount"] for m in counted["meetings"]}
    assert counts == {str(i): MEMBERS for i in ids[:MEETINGS]} | {str(ids[MEETINGS]): 0}

    full, with_lists = await ask(
        engine,
        """query($g: UUID!) { meetings(groupId: $g) { id attendanceCount attendeeMemberIds
          attendees { memberId } rsvps { memberId coming } } }""",
        g=g,
    )
    assert with_lists == 4  # rows, counts, attendees (both fields: one read), RSVPs
    for meeting in full["meetings"]:
        came = [str(m) for m in members] if meeting["id"] != str(ids[MEETINGS]) else []
        assert meeting["attendeeMemberIds"] == came  # in the recorded order
        assert [a["memberId"] for a in meeting["attendees"]] == came
        assert meeting["attendanceCount"] == len(came)
        assert meeting["rsvps"] == [{"memberId": str(m), "coming": True} for m in members[:2]]


async def test_one_meeting_comes_with_its_lists_and_its_agenda_without_loading_it(
    engine: AsyncEngine,
):
    _group_id, members, ids = await held_meetings(engine)
    last = str(ids[MEETINGS - 1])
    one, statements = await ask(
        engine,
        """query($id: UUID!) { meeting(id: $id) { id attendeeMemberIds attendanceCount
          rsvps { memberId } } }""",
        id=last,
    )
    assert statements == 3  # the meeting, its attendees, its RSVPs: as before
    assert one["meeting"]["attendanceCount"] == MEMBERS
    assert one["meeting"]["attendeeMemberIds"] == [str(m) for m in members]

    agenda, statements = await ask(
        engine, "query($id: UUID!) { agenda(meetingId: $id) { description } }", id=last
    )
    assert statements == 2  # the meeting's group and start, then the open actions before it
    assert [a["description"] for a in agenda["agenda"]] == [
        f"Follow-up {n}" for n in range(MEETINGS - 1)
    ]
    with pytest.raises(AssertionError, match="MEETING_NOT_FOUND"):
        await ask(engine, "query($id: UUID!) { agenda(meetingId: $id) { id } }", id=str(uuid4()))
