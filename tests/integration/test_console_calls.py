"""How many GraphQL requests each console page sends to each service (issue 9 part 10):
every request costs a service ~3 ms of CPU with nothing in it, so a page asks each service
at most once (fields combined in one document, aliases for one field per group), and a
change that adds a request to a page fails here instead of slowing the page silently.

The real services (processes), the console in process with its backend's HTTP counted.
"""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.console.app import build
from tests.fixtures.console import (
    PASSWORD,
    Browser,
    Node,
    add_staff,
    console_settings,
    schedule_meeting,
    service_api,
)
from tests.fixtures.credentials import TEST_CREDENTIALS
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.nats]

KNOWN = "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }"
HELD = """mutation($i: RecordMeetingHeldInput!) { recordMeetingHeld(input: $i) { id } }"""
AGREE = """mutation($i: AgreeActionInput!) { agreeAction(input: $i) { id } }"""
SURVEYS = """query($g: [UUID!]) { surveys(groupIds: $g) { surveys { meetingId } } }"""


class Counting(httpx.AsyncBaseTransport):
    """Real HTTP, each GraphQL request counted under the service its port belongs to."""

    def __init__(self, node: Node) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.services = {urlsplit(url).port: name for name, url in node.urls.items()}
        self.calls: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/graphql"):
            self.calls[self.services.get(request.url.port, str(request.url))] += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_each_page_asks_each_service_at_most_once(console_node: Node, tmp_path: Path):
    settings = console_settings(console_node, tmp_path / "console.db", "https://console.test")
    counting = Counting(console_node)
    app = build(settings, credentials=TEST_CREDENTIALS, transport=counting)
    group = console_node.groups[0]
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.app.router.lifespan_context(app.app))
        await add_staff(app, console_node)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app),
            base_url="https://console.test",
            headers={"Accept-Language": "en"},
        )
        await stack.enter_async_context(http)
        anna = Browser(http, app)
        signed = await anna.sign_in("anna", PASSWORD)
        assert signed.status_code == 303

        # a member with a contact, a held meeting with a survey and a follow-up, a next one
        fields = {"company_name": "Laskuripaja Oy", "employees": "2", "turnover_eur": "90000",
                  "joined_on": "1.4.2016", "group": group}  # fmt: skip
        added = await anna.post_form("/members/new", f"/members/new?group={group}", **fields)
        assert added.status_code == 303, added.text
        member = added.headers["location"].rsplit("/", 1)[1]
        contact = {"name": "Lauri Laskuri", "email": "lauri@laskuri.example.fi", "language": "FI"}
        made = await anna.post_form(f"/members/{member}/contacts", "/", **contact)
        assert made.status_code == 303

        async def known() -> bool:
            found = await service_api(console_node.urls["meetings"], KNOWN, g=group)
            return member in {m["memberId"] for m in found["knownMembers"]}

        await wait_for(known, timeout=30, message="the meetings service knows the member")
        now = datetime.now(UTC)
        held = await schedule_meeting(console_node, group, member, now - timedelta(hours=3))
        await service_api(console_node.urls["meetings"], HELD,
                          i={"meetingId": held, "attendeeMemberIds": [member]})  # fmt: skip
        agreed = {"meetingId": held, "ownerMemberId": member, "description": "Laskut"}
        await service_api(console_node.urls["meetings"], AGREE, i=agreed)
        await schedule_meeting(console_node, group, member, now + timedelta(days=9))

        async def surveyed() -> bool:
            found = await service_api(console_node.urls["feedback"], SURVEYS, g=[group])
            return held in {s["meetingId"] for s in found["surveys"]["surveys"]}

        await wait_for(surveyed, timeout=30, message="the feedback service opened the survey")

        month = now.strftime("%Y-%m")
        budget = {  # page -> (status, the most GraphQL requests to each service)
            "/": (200, {"groups": 1, "meetings": 1, "feedback": 1}),
            "/groups": (200, {"groups": 1}),
            f"/groups/{group}": (200, {"groups": 1}),
            "/members": (200, {"groups": 1}),
            "/members?q=laskuri": (200, {"groups": 1}),
            f"/members/{member}": (200, {"groups": 1}),
            f"/members/new?group={group}": (200, {"groups": 1}),
            f"/members/{member}/edit": (200, {"groups": 1}),
            f"/members/{member}/interviews": (200, {"groups": 1, "feedback": 1}),
            "/meetings": (303, {"groups": 1}),
            f"/groups/{group}/meetings": (200, {"groups": 1, "meetings": 1}),
            f"/groups/{group}/meetings/month?month={month}": (200, {"groups": 1, "meetings": 1}),
            f"/groups/{group}/meetings/new": (200, {"groups": 1, "meetings": 1}),
            # the meeting first (its group is checked), then its details: two to meetings
            f"/meetings/{held}": (200, {"groups": 1, "meetings": 2}),
            "/feedback": (200, {"groups": 1, "feedback": 1, "meetings": 1}),
            # the mails are asked by the survey's id, known from the first answer
            f"/feedback/meetings/{held}": (200, {"groups": 1, "feedback": 2, "meetings": 1}),
        }
        asked: dict[str, dict[str, int]] = {}
        for path, (status, _most) in budget.items():
            counting.calls.clear()
            page = await anna.http.get(path)
            assert page.status_code == status, (path, page.text[:500])
            asked[path] = dict(counting.calls)
        over = {
            path: asked[path]
            for path, (_status, most) in budget.items()
            if any(n > most.get(service, 0) for service, n in asked[path].items())
        }
        assert not over, f"pages asking a service more often than their budget: {over}"
        assert asked["/"] == budget["/"][1]  # every panel asked (the counting counts)
