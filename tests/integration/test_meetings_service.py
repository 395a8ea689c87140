"""The meetings service in-process against a real region leaf server and a real database.

The groups service is simulated: its events are published as real envelopes (with
``Nats-Msg-Id``) into the region's stream, exactly as its outbox relay would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from strawberry.utils.str_converters import to_camel_case

from services.meetings.app import MeetingsService, build
from services.meetings.events import REPLICA_DURABLE
from services.meetings.orm import TABLES
from services.meetings.settings import MeetingsSettings
from shared.contracts import (
    AttendanceCorrected,
    ConsentGiven,
    Envelope,
    Event,
    GroupCreated,
    MemberJoined,
    MemberLeft,
    MemberPaused,
    PersonRegistered,
    decode,
    encode,
    make_envelope,
    subject_for,
)
from shared.contracts.subjects import build_subject, service_filter
from shared.i18n.formats import HELSINKI
from shared.messaging.deadletter import REASON_HEADER, SUBJECT_HEADER
from shared.messaging.inbox import processed_ids
from shared.messaging.jetstream import DEADLETTER_STREAM, region_stream_name
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGION = "oulu"

MEETING_FIELDS = """
    id groupId hostMemberId theme startsAt status heldAt
    attendeeMemberIds attendanceCount cancelReason
"""
SCHEDULE = f"""
mutation($input: ScheduleMeetingInput!) {{ scheduleMeeting(input: $input) {{ {MEETING_FIELDS} }} }}
"""
HOLD = f"""
mutation($input: RecordMeetingHeldInput!) {{
  recordMeetingHeld(input: $input) {{ {MEETING_FIELDS} }}
}}
"""
CANCEL = f"""
mutation($input: CancelMeetingInput!) {{ cancelMeeting(input: $input) {{ {MEETING_FIELDS} }} }}
"""
KNOWN = """
query($g: UUID!) { knownMembers(groupId: $g) { memberId groupId joinedOn leftOn active } }
"""


@dataclass
class Node:
    """One region's meetings service plus a client of the region's leaf server."""

    service: MeetingsService
    http: httpx.AsyncClient
    js: JetStreamContext

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def gql_in(self, language: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Accept-Language": language},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = await self.gql(query, **variables)
        assert not body.get("errors"), body
        return dict(body["data"])

    async def refused(self, query: str, **variables: Any) -> dict[str, Any]:
        """The one error of a refused mutation: ``message``, ``code``, ``field`` and its
        ``params`` (camelCase, as the API's inputs are named)."""
        body = await self.gql(query, **variables)
        assert body["data"] is None, body
        (error,) = body["errors"]
        ext = error["extensions"]
        params = {to_camel_case(k): v for k, v in (ext.get("params") or {}).items()}
        return {"message": error["message"], "code": ext["code"], "field": ext["field"], **params}

    async def publish(
        self, event: Event, aggregate_id: UUID, sequence: int, *, msg_id: str | None = None
    ) -> Envelope:
        """Publish as the groups service's relay does (``Nats-Msg-Id`` = event id)."""
        envelope = make_envelope(event, region=REGION, aggregate_id=aggregate_id, sequence=sequence)
        await self.republish(envelope, msg_id=msg_id)
        return envelope

    async def republish(self, envelope: Envelope, *, msg_id: str | None = None) -> None:
        await self.js.publish(
            subject_for(envelope),
            encode(envelope),
            headers={"Nats-Msg-Id": msg_id or envelope.msg_id},
        )

    async def known_members(self, group_id: UUID) -> list[dict[str, Any]]:
        return list((await self.ok(KNOWN, g=str(group_id)))["knownMembers"])

    async def stream_events(self, subject_filter: str) -> list[tuple[Envelope, str]]:
        """Every event in the region stream on ``subject_filter``, with its Nats-Msg-Id."""
        sub = await self.js.pull_subscribe(
            subject_filter,
            stream=region_stream_name(REGION),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
        )
        found: list[tuple[Envelope, str]] = []
        try:
            while True:
                try:
                    msgs = await sub.fetch(100, timeout=0.5)
                except TimeoutError:
                    break
                for msg in msgs:
                    found.append(
                        (decode(msg.data, msg.subject).envelope, (msg.headers or {})["Nats-Msg-Id"])
                    )
                    await msg.ack()
        finally:
            await sub.unsubscribe()
        return found


@pytest.fixture
async def node(leaf_factory, nats_connect, database_url) -> AsyncIterator[Node]:
    leaf = await leaf_factory(REGION)
    settings = MeetingsSettings(
        region=REGION, database_url=database_url, nats_url=leaf.client_url, replica_batch_size=20
    )
    service = build(settings)
    nc = await nats_connect(leaf)
    async with (
        service.app.router.lifespan_context(service.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.app),
            base_url="http://meetings",
            headers=CONSOLE_HEADERS,
        ) as http,
    ):
        yield Node(service, http, nc.jetstream())


@dataclass
class Group:
    id: UUID
    members: list[UUID]


async def seed_group(node: Node, *, joined: list[date]) -> Group:
    """GroupCreated plus one MemberJoined per date; waits until the replica has them all."""
    group = Group(id=uuid4(), members=[uuid4() for _ in joined])
    await node.publish(
        GroupCreated(group_id=group.id, name="Oulu 1", founded_on=date(2015, 1, 1)), group.id, 1
    )
    for member_id, day in zip(group.members, joined, strict=True):
        event = MemberJoined(member_id=member_id, group_id=group.id, joined_on=day, employees=3)
        await node.publish(event, member_id, 1)
    await wait_for(
        lambda: _count_is(node, group.id, len(joined)), timeout=10, message="replica caught up"
    )
    return group


async def _count_is(node: Node, group_id: UUID, expected: int) -> bool:
    return len(await node.known_members(group_id)) == expected


def schedule_input(group: Group, host: UUID, starts_at: str = "2024-05-14T18:00:00+03:00"):
    return {
        "groupId": str(group.id),
        "hostMemberId": str(host),
        "theme": "Pricing our services",
        "startsAt": starts_at,
    }


async def test_schedule_then_hold_emits_events_with_sequences(node: Node):
    group = await seed_group(node, joined=[date(2020, 1, 1)] * 3)
    host, guest, _absent = group.members
    known = await node.known_members(group.id)
    assert {m["memberId"] for m in known} == {str(m) for m in group.members}
    assert all(m["active"] and m["leftOn"] is None for m in known)

    planned = (await node.ok(SCHEDULE, input=schedule_input(group, host)))["scheduleMeeting"]
    assert planned["status"] == "PLANNED"
    assert planned["theme"] == "Pricing our services"
    assert planned["startsAt"] == "2024-05-14T18:00:00+03:00"  # answered in Helsinki time
    held = (
        await node.ok(
            HOLD, input={"meetingId": planned["id"], "attendeeMemberIds": [str(host), str(guest)]}
        )
    )["recordMeetingHeld"]
    assert held["status"] == "HELD"
    assert held["heldAt"] == planned["startsAt"]
    assert held["attendanceCount"] == 2
    assert held["attendeeMemberIds"] == [str(host), str(guest)]

    other = (await node.ok(SCHEDULE, input=schedule_input(group, guest)))["scheduleMeeting"]
    cancelled = (await node.ok(CANCEL, input={"meetingId": other["id"], "reason": "Host ill"}))[
        "cancelMeeting"
    ]
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancelReason"] == "Host ill"

    listed = await node.ok(
        "query($g: UUID) { meetings(groupId: $g, status: HELD) { id attendanceCount } }",
        g=str(group.id),
    )
    assert listed["meetings"] == [{"id": planned["id"], "attendanceCount": 2}]
    one = await node.ok("query($id: UUID!) { meeting(id: $id) { status } }", id=other["id"])
    assert one["meeting"] == {"status": "CANCELLED"}

    async def all_four_published() -> list[tuple[Envelope, str]] | None:
        events = await node.stream_events(service_filter(REGION, "meetings"))
        return events if len(events) == 4 else None

    events = await wait_for(all_four_published, timeout=10, message="meeting events published")
    got = [(e.type, str(e.aggregate_id), e.sequence) for e, _ in events]
    assert got == [
        ("meetings.meeting.scheduled", planned["id"], 1),
        ("meetings.meeting.held", planned["id"], 2),
        ("meetings.meeting.scheduled", other["id"], 1),
        ("meetings.meeting.cancelled", other["id"], 2),
    ]
    assert all(msg_id == str(e.event_id) for e, msg_id in events)
    assert all(e.region == REGION for e, _ in events)
    held_payload = events[1][0].payload
    assert held_payload["attendee_member_ids"] == [str(host), str(guest)]
    assert await node.service.runtime.relay.pending_count() == 0


async def test_meetings_of_a_month_or_by_id(node: Node):
    """``meetings`` by start (a month in Helsinki time: the console's month view) and by ids
    (the feedback page's themes), instead of every meeting of the group."""
    group = await seed_group(node, joined=[date(2020, 1, 1)] * 2)
    host = group.members[0]
    starts = ["2024-04-30T23:30:00+03:00", "2024-05-01T00:00:00+03:00",
              "2024-05-31T18:00:00+03:00", "2024-06-01T00:00:00+03:00"]  # fmt: skip
    ids = [
        (await node.ok(SCHEDULE, input=schedule_input(group, host, at)))["scheduleMeeting"]["id"]
        for at in starts
    ]
    may = await node.ok(
        """query($g: UUID, $a: DateTime!, $b: DateTime!) {
          meetings(groupId: $g, startsFrom: $a, startsBefore: $b) { id startsAt } }""",
        g=str(group.id), a="2024-05-01T00:00:00+03:00", b="2024-06-01T00:00:00+03:00",
    )  # fmt: skip
    assert [m["id"] for m in may["meetings"]] == [ids[2], ids[1]]  # newest first
    picked = await node.ok(
        "query($ids: [UUID!]!) { meetings(ids: $ids) { id } }", ids=[ids[0], ids[3]]
    )
    assert {m["id"] for m in picked["meetings"]} == {ids[0], ids[3]}
    none = await node.ok("query { meetings(ids: []) { id } }")
    assert none["meetings"] == []


async def test_every_refusal_has_its_code(node: Node):
    group = await seed_group(node, joined=[date(2020, 1, 1), date(2020, 1, 1), date(2024, 6, 1)])
    host, guest, newcomer = group.members
    elsewhere = await seed_group(node, joined=[date(2020, 1, 1)])
    outsider = elsewhere.members[0]

    async def schedule_refused(**changes: Any) -> dict[str, Any]:
        return await node.refused(SCHEDULE, input={**schedule_input(group, host), **changes})

    cases = {
        "UNKNOWN_GROUP": await schedule_refused(groupId=str(uuid4())),
        "UNKNOWN_HOST": await schedule_refused(hostMemberId=str(uuid4())),
        "HOST_IN_ANOTHER_GROUP": await schedule_refused(hostMemberId=str(outsider)),
        "HOST_NOT_ACTIVE": await schedule_refused(hostMemberId=str(newcomer)),
        "THEME_REQUIRED": await schedule_refused(theme="  "),
        "THEME_TOO_LONG": await schedule_refused(theme="x" * 301),
        "INVALID_DATETIME": await schedule_refused(startsAt="14.5.2024 at six"),
    }
    for code, error in cases.items():
        assert error["code"] == code, error
    assert cases["UNKNOWN_HOST"]["field"] == "hostMemberId"
    assert "arrives within seconds" in cases["UNKNOWN_HOST"]["message"]
    assert cases["UNKNOWN_GROUP"]["field"] == "groupId"
    assert (
        "7.12.2026 klo 18.00"
        in (
            await node.gql_in(
                "fi", SCHEDULE, input={**schedule_input(group, host), "startsAt": "x"}
            )
        )["errors"][0]["message"]
    )

    meeting = (await node.ok(SCHEDULE, input=schedule_input(group, host)))["scheduleMeeting"]
    mid = meeting["id"]
    missing = await node.refused(HOLD, input={"meetingId": str(uuid4())})
    assert missing["code"] == "MEETING_NOT_FOUND"
    dup = await node.refused(HOLD, input={"meetingId": mid, "attendeeMemberIds": [str(host)] * 2})
    assert dup["code"] == "DUPLICATE_ATTENDEES"
    assert dup["memberIds"] == [str(host)]
    stranger = uuid4()
    inactive = await node.refused(
        HOLD,
        input={
            "meetingId": mid,
            "attendeeMemberIds": [str(host), str(newcomer), str(outsider), str(stranger)],
        },
    )
    assert inactive["code"] == "ATTENDEES_NOT_ACTIVE"
    assert inactive["field"] == "attendeeMemberIds"
    assert inactive["memberIds"] == [str(newcomer), str(outsider), str(stranger)]
    no_reason = await node.refused(CANCEL, input={"meetingId": mid, "reason": " "})
    assert no_reason["code"] == "CANCEL_REASON_REQUIRED"

    await node.ok(HOLD, input={"meetingId": mid, "attendeeMemberIds": [str(guest)]})
    assert (await node.refused(HOLD, input={"meetingId": mid}))["code"] == "MEETING_ALREADY_HELD"
    cancel_held = await node.refused(CANCEL, input={"meetingId": mid, "reason": "late"})
    assert cancel_held["code"] == "MEETING_ALREADY_HELD"

    second = (await node.ok(SCHEDULE, input=schedule_input(group, guest)))["scheduleMeeting"]
    await node.ok(CANCEL, input={"meetingId": second["id"], "reason": "Snow storm"})
    hold_cancelled = await node.refused(HOLD, input={"meetingId": second["id"]})
    assert hold_cancelled["code"] == "MEETING_ALREADY_CANCELLED"
    again = await node.refused(CANCEL, input={"meetingId": second["id"], "reason": "again"})
    assert again["code"] == "MEETING_ALREADY_CANCELLED"

    # Refusals emitted nothing: 2 scheduled, 1 held, 1 cancelled.
    events = await wait_for(
        lambda: _events_if(node, 4), timeout=10, message="only the accepted commands' events"
    )
    assert sorted(e.type for e, _ in events) == [
        "meetings.meeting.cancelled",
        "meetings.meeting.held",
        "meetings.meeting.scheduled",
        "meetings.meeting.scheduled",
    ]


async def _events_if(node: Node, expected: int) -> list[tuple[Envelope, str]] | None:
    events = await node.stream_events(service_filter(REGION, "meetings"))
    return events if len(events) == expected else None


async def test_a_duplicated_groups_event_is_applied_once(node: Node):
    group = await seed_group(node, joined=[])
    member_id = uuid4()
    joined = await node.publish(
        MemberJoined(
            member_id=member_id, group_id=group.id, joined_on=date(2021, 2, 1), employees=2
        ),
        member_id,
        1,
    )
    # The same event again, past the stream's duplicate window (another Nats-Msg-Id), as a
    # relay retry days later would deliver it.
    await node.republish(joined, msg_id=f"{joined.event_id}:retried")
    stats = node.service.replica.stats
    await wait_for(lambda: stats.duplicates == 1, timeout=10, message="duplicate seen")
    assert stats.applied == 2  # GroupCreated + the first MemberJoined
    assert [m["memberId"] for m in await node.known_members(group.id)] == [str(member_id)]
    async with node.service.runtime.sessions() as session:
        assert await processed_ids(session, TABLES, [joined]) == {str(joined.event_id)}


async def test_garbage_goes_to_the_dead_letter_stream_and_consuming_goes_on(node: Node):
    group = await seed_group(node, joined=[])
    joined_subject = build_subject(REGION, "groups", "member", "joined")
    await node.js.publish(joined_subject, b"\x00 not an event", headers={"Nats-Msg-Id": "junk-1"})
    unknown = make_envelope(
        GroupCreated(group_id=group.id, name="x", founded_on=date(2015, 1, 1)),
        region=REGION,
        aggregate_id=group.id,
        sequence=2,
    ).model_copy(update={"type": "groups.group.renamed"})
    renamed_subject = build_subject(REGION, "groups", "group", "renamed")
    await node.js.publish(renamed_subject, encode(unknown), headers={"Nats-Msg-Id": "junk-2"})
    member_id = uuid4()
    await node.publish(
        MemberJoined(
            member_id=member_id, group_id=group.id, joined_on=date(2022, 1, 1), employees=1
        ),
        member_id,
        1,
    )
    await wait_for(
        lambda: _count_is(node, group.id, 1), timeout=10, message="consumer still working"
    )
    stats = node.service.replica.stats
    await wait_for(lambda: stats.dead_lettered == 2, timeout=10, message="both dead-lettered")

    stream = DEADLETTER_STREAM  # the region's own, in its JetStream domain
    letters = [await node.js.get_msg(stream, seq) for seq in (1, 2)]
    with pytest.raises(NotFoundError):
        await node.js.get_msg(stream, 3)
    by_reason = {(m.headers or {})[REASON_HEADER]: m for m in letters}
    assert set(by_reason) == {"malformed", "unknown_type"}
    malformed, unknown_type = by_reason["malformed"], by_reason["unknown_type"]
    assert malformed.data == b"\x00 not an event"
    assert malformed.subject == f"deadletter.{REGION}.{REPLICA_DURABLE}"
    assert (malformed.headers or {})[SUBJECT_HEADER] == joined_subject
    assert (unknown_type.headers or {})[SUBJECT_HEADER] == renamed_subject


async def test_member_left_arriving_before_member_joined_ends_in_a_left_member(node: Node):
    group = await seed_group(node, joined=[])
    member_id = uuid4()
    stats = node.service.replica.stats
    await node.publish(
        MemberLeft(member_id=member_id, group_id=group.id, left_on=date(2023, 6, 30)), member_id, 2
    )
    await wait_for(lambda: stats.applied == 2, timeout=10, message="MemberLeft applied")
    assert await node.known_members(group.id) == []  # its joining has not arrived yet
    early = await node.refused(SCHEDULE, input=schedule_input(group, member_id))
    assert early["code"] == "UNKNOWN_HOST"

    await node.publish(
        MemberJoined(
            member_id=member_id, group_id=group.id, joined_on=date(2019, 3, 1), employees=4
        ),
        member_id,
        1,
    )
    await wait_for(lambda: _count_is(node, group.id, 1), timeout=10, message="MemberJoined")
    (member,) = await node.known_members(group.id)
    assert member == {
        "memberId": str(member_id),
        "groupId": str(group.id),
        "joinedOn": "2019-03-01",
        "leftOn": "2023-06-30",
        "active": False,
    }
    after = await node.refused(SCHEDULE, input=schedule_input(group, member_id))
    assert after["code"] == "HOST_NOT_ACTIVE"
    before = schedule_input(group, member_id, starts_at="2023-06-30T18:00:00+03:00")
    assert (await node.ok(SCHEDULE, input=before))["scheduleMeeting"]["status"] == "PLANNED"


FOLLOW_UP_QUERIES = {
    "reschedule": """mutation($input: RescheduleMeetingInput!) {
        rescheduleMeeting(input: $input) { id theme startsAt } }""",
    "rsvp": """mutation($input: RecordRsvpInput!) {
        recordRsvp(input: $input) { rsvps { memberId coming } } }""",
    "record": """mutation($input: MarkRecordedInput!) {
        markRecorded(input: $input) { recorded } }""",
    "memo": """mutation($input: PublishMemoInput!) {
        publishMemo(input: $input) { memo { summary publishedAt } } }""",
    "agree": """mutation($input: AgreeActionInput!) {
        agreeAction(input: $input) { id status dueOn } }""",
    "activity": """mutation($input: RecordActivityInput!) {
        recordActivity(input: $input) { id type memberIds } }""",
    "start": """mutation($input: StartInitiativeInput!) {
        startInitiative(input: $input) { id status } }""",
    "update": """mutation($input: UpdateInitiativeInput!) {
        updateInitiative(input: $input) { status outcome history { sequence status } } }""",
    "queries": """query($g: UUID!, $m: UUID!, $on: Date!) {
        suggestNextHost(groupId: $g, on: $on) { memberId lastHostedOn timesHosted }
        agenda(meetingId: $m) { description }
        memoSeries(groupId: $g) { summary }
        knownMembers(groupId: $g) { memberId pausedOn active }
    }""",
}


async def test_consent_replica_gates_recording_and_follow_ups_reach_the_stream(node: Node):
    """Groups' person and consent events reach the replica: markRecorded is refused naming
    the member without consent, then allowed; every new event type lands in the stream."""
    group = await seed_group(node, joined=[date(2020, 1, 1)] * 3)
    host, guest, resting = group.members
    q = FOLLOW_UP_QUERIES
    await node.publish(
        MemberPaused(member_id=resting, group_id=group.id, paused_on=date(2024, 1, 1)), resting, 2
    )
    planned = (await node.ok(SCHEDULE, input=schedule_input(group, host)))["scheduleMeeting"]
    moved = await node.ok(
        q["reschedule"], input={"meetingId": planned["id"], "theme": "Export markets"}
    )
    assert moved["rescheduleMeeting"]["theme"] == "Export markets"
    rsvp = await node.ok(
        q["rsvp"], input={"meetingId": planned["id"], "memberId": str(guest), "coming": True}
    )
    assert rsvp["recordRsvp"]["rsvps"] == [{"memberId": str(guest), "coming": True}]
    attendees = [str(host), str(guest)]
    await node.ok(HOLD, input={"meetingId": planned["id"], "attendeeMemberIds": attendees})

    person_host, person_guest = uuid4(), uuid4()
    given = datetime(2024, 1, 1, tzinfo=UTC)
    await node.publish(PersonRegistered(person_id=person_host, member_id=host), person_host, 1)
    await node.publish(PersonRegistered(person_id=person_guest, member_id=guest), person_guest, 1)
    await node.publish(
        ConsentGiven(
            person_id=person_host, member_id=host, purpose="audio_recording", given_at=given
        ),
        person_host,
        2,
    )

    async def refused_for_guest_only() -> dict[str, Any] | None:
        error = await node.refused(q["record"], input={"meetingId": planned["id"]})
        return error if error["memberIds"] == [str(guest)] else None

    error = await wait_for(refused_for_guest_only, timeout=10, message="host's consent applied")
    assert error["code"] == "RECORDING_CONSENT_MISSING"
    assert str(guest) in error["message"]
    await node.publish(
        ConsentGiven(
            person_id=person_guest, member_id=guest, purpose="audio_recording", given_at=given
        ),
        person_guest,
        2,
    )

    async def recorded() -> bool:
        body = await node.gql(q["record"], input={"meetingId": planned["id"]})
        return bool(body["data"] and body["data"]["markRecorded"]["recorded"])

    await wait_for(recorded, timeout=10, message="guest's consent applied, recording allowed")

    # no groups service configured here: no names can be masked, so nothing is published
    unmasked = await node.refused(
        q["memo"], input={"meetingId": planned["id"], "summary": "Go abroad."}
    )
    assert unmasked["code"] == "MEMO_MASKING_UNAVAILABLE"
    assert "MGN_MEETINGS_GROUPS_URL" in unmasked["reason"]
    action = await node.ok(
        q["agree"],
        input={"meetingId": planned["id"], "ownerMemberId": str(guest), "description": "Visa"},
    )
    assert action["agreeAction"]["status"] == "OPEN"
    activity = await node.ok(
        q["activity"],
        input={
            "meetingId": planned["id"],
            "type": "BUILDING_AN_ARGUMENT",
            "example": "The group argued for hiring a first employee.",
            "memberIds": [str(host)],
        },
    )
    assert activity["recordActivity"]["type"] == "BUILDING_AN_ARGUMENT"
    refused = await node.refused(
        q["activity"],
        input={
            "meetingId": planned["id"],
            "type": "VISITS",
            "example": "x",
            "memberIds": [str(uuid4())],
        },
    )
    assert refused["code"] == "MEMBERS_NOT_IN_GROUP"
    started = await node.ok(
        q["start"],
        input={"meetingId": planned["id"], "title": "Road trip", "memberIds": attendees},
    )
    initiative_id = started["startInitiative"]["id"]
    updated = await node.ok(
        q["update"],
        input={"initiativeId": initiative_id, "status": "COMPLETED", "outcome": "3 deals"},
    )
    assert updated["updateInitiative"]["history"] == [
        {"sequence": 1, "status": "ACTIVE"},
        {"sequence": 2, "status": "COMPLETED"},
    ]
    june = (
        await node.ok(
            SCHEDULE, input=schedule_input(group, guest, starts_at="2024-06-11T18:00:00+03:00")
        )
    )["scheduleMeeting"]
    found = await node.ok(q["queries"], g=str(group.id), m=june["id"], on="2024-07-01")
    assert [s["memberId"] for s in found["suggestNextHost"]] == [str(host), str(guest)]
    assert found["agenda"] == [{"description": "Visa"}]
    assert found["memoSeries"] == []
    paused = {m["memberId"]: m for m in found["knownMembers"]}[str(resting)]
    assert paused == {"memberId": str(resting), "pausedOn": "2024-01-01", "active": False}

    expected = [
        ("meetings.meeting.scheduled", 1),
        ("meetings.meeting.rescheduled", 2),
        ("meetings.meeting.rsvp_recorded", 3),
        ("meetings.meeting.held", 4),
        ("meetings.meeting.recorded", 5),
        ("meetings.action.agreed", 1),
        ("meetings.activity.recorded", 1),
        ("meetings.initiative.started", 1),
        ("meetings.initiative.updated", 2),
        ("meetings.meeting.scheduled", 1),
    ]

    async def all_published() -> list[tuple[Envelope, str]] | None:
        events = await node.stream_events(service_filter(REGION, "meetings"))
        return events if len(events) == len(expected) else None

    events = await wait_for(all_published, timeout=10, message="follow-up events published")
    assert [(e.type, e.sequence) for e, _ in events] == expected
    assert all(msg_id == str(e.event_id) for e, msg_id in events)


async def test_held_after_start_overlap_warnings_and_a_correction_through_the_service(node: Node):
    group = await seed_group(node, joined=[date(2020, 1, 1)] * 3)
    host, guest, late = group.members
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=30)
    ahead = (await node.ok(SCHEDULE, input=schedule_input(group, host, soon.isoformat())))[
        "scheduleMeeting"
    ]
    early = await node.refused(HOLD, input={"meetingId": ahead["id"]})
    assert early["code"] == "MEETING_NOT_STARTED"
    assert early["startsAt"] == ahead["startsAt"]  # both in Helsinki time with the offset
    assert datetime.fromisoformat(early["startsAt"]) == soon

    # an hour later, in Finnish form: accepted, with a warning naming the other meeting
    finnish = soon.astimezone(HELSINKI) + timedelta(hours=1)
    second = await node.ok(
        """mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) {
             startsAt warnings { code field params } } }""",
        input=schedule_input(group, guest, finnish.strftime("%-d.%-m.%Y klo %H.%M")),
    )
    answer = second["scheduleMeeting"]
    assert datetime.fromisoformat(answer["startsAt"]) == soon + timedelta(hours=1)
    (warning,) = answer["warnings"]
    assert (warning["code"], warning["field"]) == ("MEETINGS_OVERLAP", "startsAt")
    assert warning["params"]["other_meeting_id"] == ahead["id"]

    held = (
        await node.ok(
            HOLD,
            input={
                "meetingId": (await past_meeting(node, group))["id"],
                "attendeeMemberIds": [str(host), str(guest)],
            },
        )
    )["recordMeetingHeld"]
    corrected = await node.ok(
        f"""mutation($input: CorrectAttendanceInput!) {{
          correctAttendance(input: $input) {{ {MEETING_FIELDS} }} }}""",
        input={"meetingId": held["id"], "attendeeMemberIds": [str(host), str(late)]},
    )
    assert corrected["correctAttendance"]["attendeeMemberIds"] == [str(host), str(late)]
    unchanged = await node.refused(
        """mutation($input: CorrectAttendanceInput!) { correctAttendance(input: $input) { id } }""",
        input={"meetingId": held["id"], "attendeeMemberIds": [str(late), str(host)]},
    )
    assert unchanged["code"] == "ATTENDANCE_UNCHANGED"

    async def correction_published() -> Envelope | None:
        events = await node.stream_events(service_filter(REGION, "meetings"))
        found = [e for e, _ in events if e.type == AttendanceCorrected.TYPE]
        return found[0] if found else None

    envelope = await wait_for(correction_published, timeout=10, message="AttendanceCorrected")
    assert (str(envelope.aggregate_id), envelope.sequence, envelope.schema_version) == (
        held["id"],
        3,
        1,
    )
    assert envelope.payload["added_member_ids"] == [str(late)]
    assert envelope.payload["removed_member_ids"] == [str(guest)]


async def past_meeting(node: Node, group: Group) -> dict[str, Any]:
    planned = await node.ok(SCHEDULE, input=schedule_input(group, group.members[0]))
    return dict(planned["scheduleMeeting"])
