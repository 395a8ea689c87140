"""A facilitator's month in the console, in Debian's Chromium (issue 9, part 9): signed in
(in Finnish), a member refused for a bad business ID then added, a meeting scheduled with
the suggested host a few minutes back, RSVPs, recorded as held with who came, the memo and a
follow-up, the survey invitations received by a real SMTP server (aiosmtpd), answered through
their links, the results shown after three answers, the attendance corrected and the
correction seen in national GraphQL; then the same pages in Swedish.

One region: its leaf server linked to a hub, the three services and the console over HTTP in
this process; the national gateway as a process of its own (``mgn service gateway``, tokens
required), which the region joins as ``mgn region up`` does (a join request to its
registrar). An earlier attempt with the gateway in this process never saw the meeting: the
region had not joined, so NATIONAL had no source for it and nothing could arrive, however
long the wait."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from deploy.federation import join_hub
from deploy.natsserver import free_port
from services.console.app import build as build_console
from services.feedback.app import build as build_feedback
from services.feedback.settings import FeedbackSettings
from services.gateway.auth import create_token
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from services.meetings.app import build as build_meetings
from services.meetings.settings import MeetingsSettings
from shared.i18n.formats import HELSINKI
from shared.storage import create_engine, session_factory
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    open_page,
    serve_http,
    service_process,
)
from tests.fixtures.console import (
    CREATE_GROUP,
    PASSWORD,
    Node,
    add_staff,
    console_settings,
    service_api,
)
from tests.fixtures.credentials import TEST_CREDENTIALS
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

REGION = "oulu"
KNOWN = "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }"
ATTENDEES = "query($id: UUID!) { meeting(id: $id) { attendeeMemberIds } }"
NATIONAL = "query($id: ID!) { meeting(id: $id) { status attendanceCount attendeeIds } }"
LINK = re.compile(r"https?://[^\s\"<>]+/survey/[A-Za-z0-9_\-]+")


class Inbox:
    """aiosmtpd handler keeping the messages that arrived."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted for delivery"


def survey_links(inbox: Inbox) -> list[str]:
    links = []
    for message in inbox.received:
        body = message.get_body(preferencelist=("plain", "html"))
        assert body is not None
        found = LINK.search(body.get_content())
        assert found, body.get_content()
        links.append(found.group(0))
    return links


async def submit(page: Any, button: str) -> None:
    """Click a form's button and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.click(button)


class Nation:
    """The national gateway as a process on the hub, with an agency token of the region."""

    def __init__(self, hub_url: str, tmp_path: Path) -> None:
        self.database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
        self.process = service_process(tmp_path, "gateway", self.database_url, hub_url)
        self.process.env["MGN_GATEWAY_REQUIRE_TOKEN"] = "true"  # no token, no answer
        self.url = self.process.health_url.removesuffix("/healthz")
        self.token = ""

    async def start(self, leaf_url: str) -> None:
        """Healthy (its migrations run), the region joined, a token of the region issued."""
        await asyncio.to_thread(self.process.wait_healthy, 120)
        await join_hub(leaf_url, REGION, timeout=120)
        engine = create_engine(self.database_url)
        try:
            issued = await create_token(session_factory(engine), "agency", REGION, "month test")
        finally:
            await engine.dispose()
        self.token = issued.token

    async def meeting(self, meeting_id: str) -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=20) as http:
            answer = await http.post(
                f"{self.url}/graphql",
                json={"query": NATIONAL, "variables": {"id": meeting_id}},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        body = answer.json()
        assert not body.get("errors"), body
        found = body["data"]["meeting"]
        return None if found is None else dict(found)

    async def wait_for_attendance(self, meeting_id: str, expected: set[str]) -> None:
        """Poll until the nation has the meeting held with exactly ``expected`` attending."""

        async def arrived() -> bool:
            found = await self.meeting(meeting_id)
            return (
                found is not None
                and found["status"] == "HELD"
                and set(found["attendeeIds"]) == expected
                and found["attendanceCount"] == len(expected)
            )

        try:
            await wait_for(arrived, timeout=120, interval=0.5, message="national attendance")
        except TimeoutError:
            seen = await self.meeting(meeting_id)
            pytest.fail(
                f"national GraphQL has {seen}, expected attendees {sorted(expected)}; "
                f"gateway log:\n{self.process.log_tail(40)}"
            )


@pytest.mark.timeout(1200)  # ~2-6 minutes at load 15-29; the default 600 s is too close
async def test_a_month_in_the_console_in_a_browser(
    nats_hub, leaf_factory, playwright, tmp_path: Path
) -> None:
    leaf = await leaf_factory(REGION)
    nation = Nation(nats_hub.client_url, tmp_path)
    nation.process.spawn()  # starts while the region's services do
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    ports = {name: free_port() for name in ("groups", "meetings", "feedback", "console")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}

    def db(name: str) -> str:
        return f"sqlite:///{tmp_path / name}.db"

    async with AsyncExitStack() as stack:
        stack.callback(nation.process.stop)
        stack.callback(smtp.stop)
        common = {"region": REGION, "nats_url": leaf.client_url}
        groups = build_groups(GroupsSettings(**common, database_url=db("groups")),
                              credentials=TEST_CREDENTIALS)  # fmt: skip
        await serve_http(stack, groups.app, ports["groups"])
        to_groups = f"{urls['groups']}/graphql"
        meetings = build_meetings(
            # names for the pages and the memo's masking: allow for a loaded machine
            MeetingsSettings(
                **common, database_url=db("meetings"), groups_url=to_groups, groups_timeout=30
            ),
            credentials=TEST_CREDENTIALS,
        )
        await serve_http(stack, meetings.app, ports["meetings"])
        feedback = build_feedback(
            FeedbackSettings(**common, database_url=db("feedback"), groups_url=to_groups,
                             public_base_url=urls["console"], smtp_host="127.0.0.1",
                             smtp_port=smtp_port, mail_interval_seconds=0.5),
            credentials=TEST_CREDENTIALS,
        )  # fmt: skip
        await serve_http(stack, feedback.app, ports["feedback"])
        made = await service_api(urls["groups"], CREATE_GROUP, n="Oulun ydinryhmä")
        group = made["createGroup"]["id"]
        node = Node({s: urls[s] for s in ("groups", "meetings", "feedback")}, [group, group])
        console = build_console(
            console_settings(node, tmp_path / "console.db", urls["console"]),
            credentials=TEST_CREDENTIALS,
        )
        await serve_http(stack, console.app, ports["console"])
        await add_staff(console, node)
        await nation.start(leaf.client_url)
        base = urls["console"]

        async with playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            stack.push_async_callback(browser.close)
            page = await open_page(browser, locale="fi-FI")
            await page.goto(f"{base}/")
            await page.fill("#username", "anna")
            await page.fill("#password", PASSWORD)
            await page.press("#password", "Enter")
            await page.wait_for_url(f"{base}/")
            assert await page.get_attribute("html", "lang") == "fi"

            # members: one refused for its business ID, then added; two more
            members: dict[str, str] = {}
            for i, name in enumerate(("Kuukausipaja Oy", "Toinen Tmi", "Kolmas Ky")):
                await page.goto(f"{base}/members/new?group={group}")
                await page.fill("#company_name", name)
                await page.fill("#employees", "2")
                await page.fill("#turnover_eur", "90 000")
                await page.fill("#joined_on", "1.4.2016")
                if i == 0:
                    await page.fill("#business_id", "0112038-8")  # the check digit is wrong
                    await page.click("form.stack button[type=submit]")
                    error = await page.text_content("#business_id-error")
                    assert error is not None
                    assert "0112038-8" in error
                    await page.fill("#business_id", "0112038-9")
                await page.click("form.stack button[type=submit]")
                await page.wait_for_url(re.compile(r"/members/[0-9a-f-]{36}$"))
                members[name] = page.url.rsplit("/", 1)[1]
                await page.fill("#contact-name", f"Yhteys {i}")
                await page.fill("#contact-email", f"yhteys{i}@kuukausi.example.fi")
                await page.click("form[action$='/contacts'] button[type=submit]")
                await page.wait_for_selector("form[action$='/consent']")

            async def known() -> bool:
                found = await service_api(urls["meetings"], KNOWN, g=group)
                return set(members.values()) <= {m["memberId"] for m in found["knownMembers"]}

            await wait_for(known, timeout=30, message="the meetings service knows the members")

            # a meeting with the suggested host, a few minutes back (so it can be held)
            await page.goto(f"{base}/groups/{group}/meetings/new")
            suggested = page.locator("input[name=host]").first
            host = await suggested.get_attribute("value")
            assert host in members.values()
            await suggested.check()
            start = datetime.now(HELSINKI) - timedelta(minutes=5)
            await page.fill("#theme", "Hinnoittelu")
            await page.fill("#day", f"{start.day}.{start.month}.{start.year}")
            await page.fill("#time", f"{start:%H.%M}")
            await page.click("form.stack button[type=submit]")
            await page.wait_for_url(re.compile(r"/meetings/[0-9a-f-]{36}$"))
            meeting = page.url.rsplit("/", 1)[1]

            for name in ("Toinen Tmi", "Kolmas Ky"):  # RSVPs
                await page.select_option("#rsvp-member", members[name])
                await submit(page, "form[action$='/rsvp'] button[type=submit]")
            said = page.locator("form[action$='/held'] label .meta")
            assert await said.count() == 2  # the RSVPs shown beside the names
            for box in await page.locator("form[action$='/held'] input[name=present]").all():
                await box.check()
            await page.click("form[action$='/held'] button[type=submit]")
            await page.wait_for_selector("form[action$='/attendance']")
            await page.fill("#summary", "Käytiin läpi hinnoittelu.")
            await submit(page, "form[action$='/memo'] button[formaction]")  # preview first
            assert await page.locator("#preview blockquote").count() == 1, (
                page.url,
                await page.inner_text("main"),
            )
            await submit(page, "form[action$='/memo'] button:not([formaction])")
            await page.select_option("#owner", members["Toinen Tmi"])
            await page.fill("#description", "Hinnasto uusiksi")
            await page.click("form[action$='/action'] button[type=submit]")
            await page.wait_for_selector("text=Hinnasto uusiksi")
            assert "Käytiin läpi hinnoittelu." in await page.content()

            # the survey: three invitations by SMTP, answered through their links
            await wait_for(lambda: len(inbox.received) >= 3, timeout=60, message="3 invitations")
            links = survey_links(inbox)
            results = f"{base}/feedback/meetings/{meeting}"
            await page.goto(results)
            assert "Ei vielä" in await page.content()  # no results before k answers
            answerer = await open_page(browser, locale="fi-FI")
            for link in links:
                await answerer.goto(link)
                for fieldset in await answerer.locator("fieldset").all():
                    await fieldset.locator("input[type=radio]").last.check()
                await submit(answerer, "button[type=submit]")
                saved = answerer.locator('p.notice[role="status"]')  # the thank-you
                assert await saved.count() == 1, await answerer.content()
            await page.goto(results)
            shown = await page.content()
            assert "Ei vielä" not in shown
            assert re.search(r"\b3\b", shown)

            # attendance corrected: the region's record, then the nation's
            everyone = set(members.values())
            await nation.wait_for_attendance(meeting, everyone)  # as held: all three
            await page.goto(f"{base}/meetings/{meeting}")
            absent = page.locator("form[action$='/attendance'] input[name=present]").last
            absent_id = await absent.get_attribute("value")
            await absent.uncheck()
            await submit(page, "form[action$='/attendance'] button[type=submit]")
            after = (await service_api(urls["meetings"], ATTENDEES, id=meeting))["meeting"]
            corrected = set(after["attendeeMemberIds"])
            assert corrected == everyone - {absent_id}
            await nation.wait_for_attendance(meeting, corrected)

            # the same month in Swedish
            await page.select_option("select[name=language]", "sv")
            await submit(page, "form[action='/language'] button[type=submit]")
            await page.goto(f"{base}/meetings/{meeting}")
            assert await page.get_attribute("html", "lang") == "sv"
            assert "Hinnasto uusiksi" in await page.content()
            await page.goto(results)
            assert await page.get_attribute("html", "lang") == "sv"
