"""Invitations and reminders through a real SMTP server (aiosmtpd on a free local port), on
SQLite and PostgreSQL; failed sends retried and visible in the API; and demo mode."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller

from services.feedback.app import build
from services.feedback.contacts import StaticContactDirectory
from services.feedback.mail import DirectoryTransport, SmtpTransport
from services.feedback.settings import FeedbackSettings
from shared.i18n.formats import format_date
from shared.storage.migrations import migrate
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.unit.test_feedback_service import REGION, Fb, token_of


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """aiosmtpd handler keeping what arrived: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def make_fb(settings: FeedbackSettings) -> Fb:
    directory = StaticContactDirectory()
    service = build(settings, directory=directory, run_mail_worker=False)
    runtime = service.runtime
    await migrate(runtime.engine, runtime.migrations, version_table="alembic_version_feedback")
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app),
        base_url="http://feedback",
        headers=CONSOLE_HEADERS,
    )
    return Fb(service, http, directory, transport=None)  # type: ignore[arg-type]


@pytest.fixture
async def smtp_fb(smtp_server, database_url: str) -> AsyncIterator[tuple[Fb, Inbox]]:
    inbox, port = smtp_server
    settings = FeedbackSettings(
        region=REGION,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="MGN Oulu <palaute@oulu.example.fi>",
        public_base_url="https://palaute.oulu.example.fi",
        mail_retry_seconds=1,
    )
    fb = await make_fb(settings)
    assert isinstance(fb.service.mail.transport, SmtpTransport)
    try:
        yield fb, inbox
    finally:
        await fb.http.aclose()
        await fb.service.runtime.engine.dispose()


async def test_invitations_arrive_by_smtp_in_each_persons_language(smtp_fb):
    fb, inbox = smtp_fb
    finn, swede, english = uuid4(), uuid4(), uuid4()
    anna = await fb.person(finn, "fi")
    stina = await fb.person(swede, "sv")
    john = await fb.person(english, "en")
    held_at = datetime.now(UTC) - timedelta(hours=1)
    await fb.hold([finn, swede, english], held_at=held_at)
    await fb.service.mail.run_once()
    day = held_at.astimezone(ZoneInfo("Europe/Helsinki")).date()
    fi_day = f"{day.day}.{day.month}.{day.year}"

    assert len(inbox.received) == 3
    by_recipient = {rcpts[0]: message for rcpts, message in inbox.received}
    assert set(by_recipient) == {anna.email, stina.email, john.email}
    expected = {
        anna.email: ("fi", f"Palautekysely: ryhmätapaaminen {fi_day}", "Hei Yrittäjä 1,"),
        stina.email: ("sv", f"Responsenkät: gruppträffen {fi_day}", "Hej Yrittäjä 2,"),
        john.email: (
            "en",
            f"Feedback survey: group meeting on {format_date(day, 'en')}",
            "Hello Yrittäjä 3,",
        ),
    }
    for address, (lang, subject, greeting) in expected.items():
        message = by_recipient[address]
        assert message["Subject"] == subject
        assert message["Content-Language"] == lang
        assert message["From"] == "MGN Oulu <palaute@oulu.example.fi>"
        assert address in message["To"]
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert text.startswith(greeting)
        assert "https://palaute.oulu.example.fi/survey/" in text
        token = token_of(message)
        assert len(token) >= 43
        page = await fb.http.get(f"/survey/{token}")
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.text


async def test_a_mail_server_that_is_down_never_blocks_and_is_retried(database_url: str):
    port = free_port()  # nothing listens here
    settings = FeedbackSettings(
        region=REGION,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout=2,
        mail_retry_seconds=1,
    )
    fb = await make_fb(settings)
    try:
        member = uuid4()
        await fb.person(member, "fi")
        meeting_id = await fb.hold([member])  # recorded although no mail can go out
        now = datetime.now(UTC)
        assert await fb.service.mail.run_once(now) == 0
        (mail,) = (await fb.ok("{ mailQueue { status attempts lastError } }"))["mailQueue"]
        assert (mail["status"], mail["attempts"]) == ("retrying", 1)
        assert "Connection" in mail["lastError"] or "refused" in mail["lastError"]
        summary = await fb.ok(
            "query($m: UUID!) { surveySummary(meetingId: $m) { invited open } }",
            m=str(meeting_id),
        )
        assert summary["surveySummary"] == {"invited": 1, "open": True}

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert await fb.service.mail.run_once(now + timedelta(seconds=2)) == 1
        finally:
            controller.stop()
        assert [rcpts for rcpts, _ in inbox.received] == [[fb.persons[0].email]]
    finally:
        await fb.http.aclose()
        await fb.service.runtime.engine.dispose()


async def test_exactly_one_reminder_arrives_before_closing_and_none_after(smtp_fb):
    fb, inbox = smtp_fb
    answers, forgets = uuid4(), uuid4()
    await fb.person(answers, "fi")
    forgetful = await fb.person(forgets, "sv")
    held_at = datetime.now(UTC) - timedelta(hours=1)
    await fb.hold([answers, forgets], held_at=held_at)
    assert await fb.service.mail.run_once(held_at + timedelta(hours=2)) == 2
    invitation = next(m for _, m in inbox.received if fb.persons[0].email in str(m["To"]))
    data = {"overall": "4", "usefulness": "4", "recommend": "9"}
    assert (await fb.http.post(f"/survey/{token_of(invitation)}", data=data)).status_code == 303

    for days in (1, 5, 10):  # before the reminder day: nothing
        await fb.service.mail.run_once(held_at + timedelta(days=days))
    assert len(inbox.received) == 2
    for hours in (1, 2, 30, 60):  # from the reminder day up to the closing: one reminder
        await fb.service.mail.run_once(held_at + timedelta(days=11, hours=hours))
    assert len(inbox.received) == 3
    rcpts, reminder = inbox.received[-1]
    assert rcpts == [forgetful.email]
    assert str(reminder["Subject"]).startswith("Påminnelse")
    assert reminder["Content-Language"] == "sv"
    page = await fb.http.get(f"/survey/{token_of(reminder)}")
    assert page.status_code == 200  # the reminder's link works until the survey closes
    await fb.service.mail.run_once(held_at + timedelta(days=14, minutes=1))
    await fb.service.mail.run_once(held_at + timedelta(days=20))
    assert len(inbox.received) == 3  # nothing after closing
    kinds = [(m["kind"], m["status"]) for m in (await fb.ok(MAIL_QUEUE))["mailQueue"]]
    assert sorted(kinds) == [("invitation", "sent"), ("invitation", "sent"), ("reminder", "sent")]


MAIL_QUEUE = "{ mailQueue { kind status attempts lastError sentAt } }"


class RefusingFirst(Inbox):
    """A real server that refuses the first delivery with a temporary error (451)."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.refused:
            self.refused += 1
            return "451 4.3.0 Mailbox temporarily unavailable"
        return await super().handle_DATA(server, session, envelope)


async def test_a_refused_send_is_retried_and_visible_in_the_api(database_url: str):
    inbox, port = RefusingFirst(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = FeedbackSettings(
        region=REGION,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_retry_seconds=1,
    )
    fb = await make_fb(settings)
    try:
        member = uuid4()
        await fb.person(member, "en")
        meeting_id = await fb.hold([member])  # recorded: mail is never in the way
        now = datetime.now(UTC)
        assert await fb.service.mail.run_once(now) == 0
        (mail,) = (await fb.ok(MAIL_QUEUE))["mailQueue"]
        assert (mail["status"], mail["attempts"], mail["sentAt"]) == ("retrying", 1, None)
        assert "451" in mail["lastError"]
        assert inbox.received == []
        assert await fb.service.mail.run_once(now) == 0  # not yet due again
        assert await fb.service.mail.run_once(now + timedelta(seconds=5)) == 1
        (mail,) = (await fb.ok(MAIL_QUEUE))["mailQueue"]
        assert (mail["status"], mail["attempts"]) == ("sent", 2)
        assert mail["sentAt"] is not None
        assert [rcpts for rcpts, _ in inbox.received] == [[fb.persons[0].email]]
        summary = await fb.ok(
            "query($m: UUID!) { surveySummary(meetingId: $m) { invited open } }",
            m=str(meeting_id),
        )
        assert summary["surveySummary"] == {"invited": 1, "open": True}
    finally:
        controller.stop()
        await fb.http.aclose()
        await fb.service.runtime.engine.dispose()


async def test_demo_mode_writes_eml_files(tmp_path: Path):
    mail_dir = tmp_path / "mail"
    settings = FeedbackSettings(
        region=REGION, database_url=f"sqlite:///{tmp_path / 'f.db'}", mail_dir=str(mail_dir)
    )
    fb = await make_fb(settings)
    try:
        assert isinstance(fb.service.mail.transport, DirectoryTransport)
        member = uuid4()
        person = await fb.person(member, "sv")
        await fb.hold([member])
        assert await fb.service.mail.run_once() == 1
        (eml,) = mail_dir.glob("*.eml")
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert person.email in message["To"]
        assert message["Content-Language"] == "sv"
    finally:
        await fb.http.aclose()
        await fb.service.runtime.engine.dispose()


async def test_smtp_login_is_used_when_a_user_is_set():
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret", handled=False)

    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,  # the test server has no certificate
    )
    controller.start()
    try:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@x.fi", "b@x.fi", "hi"
        message.set_content("hello")
        transport = SmtpTransport("127.0.0.1", port, user="palaute", password="s3cret")
        await transport.send(message)
    finally:
        controller.stop()
    assert logins == [(b"palaute", b"s3cret")]
    assert [rcpts for rcpts, _ in inbox.received] == [["b@x.fi"]]
