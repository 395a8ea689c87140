"""Composition-level pieces of the meetings service that need no server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.meetings.app import build
from services.meetings.settings import MeetingsSettings
from shared.messaging.consumer import retry_delay
from tests.fixtures.credentials import CONSOLE_HEADERS


def test_settings_defaults(monkeypatch):
    for name in ("REGION", "DATABASE_URL", "NATS_URL", "HOST", "PORT", "GRAPHIQL"):
        monkeypatch.delenv(f"MGN_MEETINGS_{name}", raising=False)
    settings = MeetingsSettings()
    assert settings.region == "oulu"
    assert settings.database_url == "sqlite+aiosqlite:///var/oulu/meetings.db"
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert (settings.host, settings.port, settings.graphiql) == ("127.0.0.1", 8102, True)
    assert str(settings.zone) == "Europe/Helsinki"


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("MGN_MEETINGS_REGION", "kainuu")
    monkeypatch.setenv("MGN_MEETINGS_DATABASE_URL", "postgresql://u@db:5432/meetings")
    settings = MeetingsSettings()
    assert settings.region == "kainuu"
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/meetings"


@pytest.mark.parametrize(
    "bad", [{"region": "Oulu!"}, {"region": "hub"}, {"timezone": "Mars/Olympus"}]
)
def test_settings_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        MeetingsSettings(**bad)


def test_build_exposes_runtime_and_app(tmp_path):
    service = build(MeetingsSettings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    assert service.runtime.service == "meetings"
    assert service.runtime.region == "oulu"
    assert {getattr(r, "path", "") for r in service.app.routes} >= {
        "/graphql",
        "/healthz",
        "/calendar/group/{group_id:uuid}.ics",
        "/calendar/member/{member_id:uuid}.ics",
        "/groups/{group_id:uuid}/memos.md",
    }


def test_retry_delay_grows_and_is_capped():
    assert [retry_delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(100) == 60.0


async def test_asyncapi_document_lists_what_the_service_publishes_and_consumes(tmp_path):
    import httpx

    service = build(MeetingsSettings(database_url=f"sqlite:///{tmp_path / 'm.db'}"))
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://meetings", headers=CONSOLE_HEADERS
    ) as http:
        document = (await http.get("/asyncapi.json")).json()
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {
        "mgn.oulu.meetings.meeting.scheduled",
        "mgn.oulu.meetings.meeting.held",
        "mgn.oulu.meetings.meeting.attendance_corrected",
        "mgn.oulu.meetings.meeting.cancelled",
        "mgn.oulu.meetings.meeting.rescheduled",
        "mgn.oulu.meetings.meeting.rsvp_recorded",
        "mgn.oulu.meetings.meeting.recorded",
        "mgn.oulu.meetings.meeting.memo_published",
        "mgn.oulu.meetings.action.agreed",
        "mgn.oulu.meetings.action.closed",
        "mgn.oulu.meetings.activity.recorded",
        "mgn.oulu.meetings.initiative.started",
        "mgn.oulu.meetings.initiative.updated",
        "mgn.oulu.groups.>",
    }
    schemas = document["components"]["schemas"]
    assert schemas["MeetingHeldEnvelope"]["properties"]["payload"] == {
        "$ref": "#/components/schemas/MeetingHeld"
    }
    assert "attendee_member_ids" in schemas["MeetingHeld"]["properties"]
