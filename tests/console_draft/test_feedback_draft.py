"""DRAFT: the feedback pages against the real feedback, meetings and groups services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest

from services.feedback import handlers
from services.feedback.app import build as build_feedback
from services.feedback.contacts import Contact, StaticContactDirectory
from services.feedback.settings import FeedbackSettings
from services.groups.app import build as build_groups
from services.groups.orm import Base as GroupsBase
from services.groups.settings import GroupsSettings
from services.meetings.app import build as build_meetings
from services.meetings.settings import MeetingsSettings
from shared.contracts import MeetingHeld, PersonRegistered, decode, encode, make_envelope
from shared.storage import create_schema
from shared.storage.migrations import migrate
from tests.console_draft.host import Host, app


class Capture:
    def __init__(self) -> None:
        self.sent: list[object] = []

    async def send(self, message: object) -> None:
        self.sent.append(message)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, object, str, StaticContactDirectory]]:
    db = f"sqlite+aiosqlite:///{tmp_path}"
    groups = build_groups(GroupsSettings(region="oulu", database_url=f"{db}/g.db"))
    await create_schema(groups.runtime.engine, GroupsBase.metadata)
    meetings = build_meetings(MeetingsSettings(region="oulu", database_url=f"{db}/m.db"))
    await migrate(meetings.runtime.engine, meetings.runtime.migrations, version_table="alembic_version_meetings")
    directory = StaticContactDirectory()
    feedback = build_feedback(
        FeedbackSettings(region="oulu", database_url=f"{db}/f.db", mail_dir=str(tmp_path / "mail"),
                         public_base_url="https://x.fi", mail_max_attempts=1),
        directory=directory, transport=Capture(), run_mail_worker=False,
    )
    await migrate(feedback.runtime.engine, feedback.runtime.migrations, version_table="alembic_version_feedback")
    clients = {
        name: httpx.AsyncClient(transport=httpx.ASGITransport(app=svc.app), base_url=f"http://{name}")
        for name, svc in (("groups", groups), ("meetings", meetings), ("feedback", feedback))
    }
    made = await clients["groups"].post(
        "/graphql",
        json={"query": 'mutation { createGroup(input: {name: "Oulu", foundedOn: "2016-03-01"}) { id } }'},
    )
    group = made.json()["data"]["createGroup"]["id"]
    host = Host(clients)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app(host)),
        base_url="http://console",
        headers={"x-test-user": f"facilitator:{group}"},
    ) as client:
        yield client, feedback, group, directory
    for c in clients.values():
        await c.aclose()


async def apply(feedback, event, aggregate):
    envelope = make_envelope(event, region="oulu", aggregate_id=aggregate, sequence=2)
    await handlers.apply_event(decode(encode(envelope)), feedback.runtime.unit_of_work(), feedback.node)


async def test_survey_list_and_page_say_when_results_are_not_yet_shown(site):
    client, feedback, group, directory = site
    members = [uuid4() for _ in range(3)]
    for n, member in enumerate(members):
        person = uuid4()
        if n < 2:
            directory.add(member, Contact(person, f"Yrittäjä {n}", f"p{n}@x.fi", "fi"))
        await apply(feedback, PersonRegistered(person_id=person, member_id=member, language="fi"), person)
    meeting = uuid4()
    held = MeetingHeld(meeting_id=meeting, group_id=UUID(group), held_at=datetime.now(UTC) - timedelta(hours=1),
                       attendee_member_ids=tuple(members))
    await apply(feedback, held, meeting)
    await feedback.mail.run_once(datetime.now(UTC) + timedelta(seconds=1))
    listed = await client.get(f"/feedback?group={group}")
    assert listed.status_code == 200, listed.text
    assert "1 failed" in listed.text
    page = await client.get(f"/feedback/meetings/{meeting}")
    assert page.status_code == 200, page.text
    assert "at least 3 participants" in page.text
    assert "Mails that could not be sent" in page.text
    other = await client.get(f"/feedback/meetings/{meeting}", headers={"x-test-user": "facilitator:"})
    assert other.status_code == 403


async def test_home(site):
    client, feedback, group, directory = site
    member, person, meeting = uuid4(), uuid4(), uuid4()
    directory.add(member, Contact(person, "Yrittäjä", "p@x.fi", "fi"))
    await apply(feedback, PersonRegistered(person_id=person, member_id=member, language="fi"), person)
    held = MeetingHeld(meeting_id=meeting, group_id=UUID(group), held_at=datetime.now(UTC) - timedelta(hours=1),
                       attendee_member_ids=(member,))
    await apply(feedback, held, meeting)
    home = await client.get("/")
    assert home.status_code == 200, home.text
    assert "0 of 1 answered" in home.text
    assert "3 events waiting" in home.text
    assert "Down" in home.text
