"""The console's accessibility in a real browser (issue 9, part 9): axe-core (the copy that
axe-playwright-python ships; nothing from a CDN) finds no serious or critical violation on
any console page, every GET page enumerated from the one place pages are registered, with
real items of the region's services behind it; and the main forms work by keyboard alone
(Tab to each field, type, Enter), the refusal at a field included."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.natsserver import free_port
from services.console.app import build
from services.console.pages import AREAS
from shared.i18n.formats import HELSINKI
from tests.e2e.support import ADD_MEMBER, CHROMIUM, CHROMIUM_ARGS, open_page, serve_http
from tests.fixtures.console import PASSWORD, Node, add_staff, console_settings, schedule_meeting
from tests.fixtures.credentials import CONSOLE_HEADERS, TEST_CREDENTIALS
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
SEVERE = {"serious", "critical"}


@dataclass
class Served:
    url: str
    node: Node


@pytest.fixture
async def served(console_node: Node, tmp_path: Path) -> AsyncIterator[Served]:
    """A console served over HTTP on 127.0.0.1 (uvicorn, in this event loop)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = build(console_settings(console_node, tmp_path / "console.db", url),
                credentials=TEST_CREDENTIALS)  # fmt: skip
    async with AsyncExitStack() as stack:
        await serve_http(stack, app.app, port)
        await add_staff(app, console_node)
        yield Served(url, console_node)


async def tab_to(page: Any, selector: str, limit: int = 60) -> int:
    """Press Tab until ``selector`` has the focus (reachable by keyboard), or fail; the
    number of presses it took."""
    for presses in range(1, limit + 1):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return presses
    raise AssertionError(f"{selector} is not reachable with Tab on {page.url}")


async def type_into(page: Any, selector: str, text: str) -> None:
    await tab_to(page, selector)
    await page.keyboard.press("Control+A")
    await page.keyboard.type(text)


async def sign_in_by_keyboard(page: Any, base: str, username: str) -> None:
    await page.goto(f"{base}/signin")
    await type_into(page, "#username", username)
    await type_into(page, "#password", PASSWORD)
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{base}/")


async def severe_violations(axe: Any, page: Any) -> list[str]:
    results = await axe.run(page)  # /signin (public) is checked before signing in
    assert results.response["testEngine"]["name"] == "axe-core", page.url
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SEVERE
    ]


async def test_every_page_passes_axe_and_the_main_forms_work_by_keyboard(served, playwright):
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    axe = Axe()
    base, group = served.url, served.node.groups[0]
    found: list[str] = []
    visited = 0
    async with playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await open_page(browser, locale="fi-FI")
            await page.goto(f"{base}/signin")
            found += await severe_violations(axe, page)
            await sign_in_by_keyboard(page, base, "admin")

            # add a member by keyboard: refused at its field first, then added
            await page.goto(f"{base}/members/new?group={group}")
            await type_into(page, "#company_name", "Näppäinpaja Oy")
            await type_into(page, "#business_id", "7654321-3")  # wrong check digit
            await type_into(page, "#employees", "3")
            await type_into(page, "#turnover_eur", "250 000")
            await type_into(page, "#joined_on", "1.4.2016")
            await tab_to(page, "button[type=submit]")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("#business_id-error")
            found += await severe_violations(axe, page)  # the form with its errors
            # not test_console_members' business ID: both use the session's node
            await type_into(page, "#business_id", "7654321-2")
            await tab_to(page, "button[type=submit]")
            await page.keyboard.press("Enter")
            await page.wait_for_url(re.compile(r"/members/[0-9a-f-]{36}$"))
            member = page.url.rsplit("/", 1)[1]
            await type_into(page, "#contact-name", "Kerttu Näppäin")
            await type_into(page, "#contact-email", "kerttu@nappain.example.fi")
            await tab_to(page, "form[action$='/contacts'] button[type=submit]")
            await page.keyboard.press("Enter")
            await page.wait_for_selector("form[action$='/consent']")
            person = await page.get_attribute("form[action$='/consent']", "action")
            assert person is not None, "the contact was not added"
            ids = {
                "group_id": group,
                "member_id": member,
                "person_id": person.split("/")[2],
                "username": "anna",
                "meeting_id": await schedule_meeting(
                    served.node, group, member, datetime.now(UTC) + timedelta(days=9)
                ),
            }

            for area in AREAS:
                for registered in area.pages:
                    if "GET" not in registered.methods or registered.role == "public":
                        continue
                    names = PARAM.findall(registered.path)
                    missing = [n for n in names if n not in ids]
                    assert not missing, f"{registered.path}: give this sweep a {missing}"
                    url = PARAM.sub(lambda m: ids[m.group(1)], registered.path)
                    answer = await page.goto(base + url)
                    assert answer is not None
                    assert answer.status in (200, 404), (url, answer.status)
                    found += await severe_violations(axe, page)
                    visited += 1
        finally:
            await browser.close()
    assert visited >= 15
    assert not found, "\n".join(found)


KNOWN = "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }"
RECORDED = """query($id: UUID!) { meeting(id: $id) {
  hostMemberId status attendeeMemberIds memo { summary } } }"""


async def press_and_wait(page: Any, key: str = "Enter") -> None:
    """Press ``key`` on the focused control and wait for the page the form leads to."""
    async with page.expect_navigation():
        await page.keyboard.press(key)


async def check_by_keyboard(page: Any, selector: str) -> None:
    """Tab to a checkbox or radio button and make it checked with Space."""
    await tab_to(page, selector, limit=200)
    if not await page.is_checked(selector):
        await page.keyboard.press("Space")
    assert await page.is_checked(selector), f"Space did not check {selector}"


async def choose_by_keyboard(page: Any, selector: str, value: str) -> None:
    """Tab to a closed <select> (unless it has the focus) and move to the option ``value``
    with Home and ArrowDown."""
    if not await page.evaluate(f"document.activeElement.matches({selector!r})"):
        await tab_to(page, selector, limit=200)
    await page.keyboard.press("Home")
    count = await page.locator(f"{selector} option").count()
    for _ in range(count):
        if await page.input_value(selector) == value:
            return
        await page.keyboard.press("ArrowDown")
    assert await page.input_value(selector) == value, f"{value} not reachable in {selector}"


async def test_a_meeting_is_run_by_keyboard_alone(served, playwright):
    """Scheduling with the suggested host (a bad date refused at its field first), attendance
    as a checklist and "held", the memo previewed and published, a follow-up agreed: Tab,
    Space, Enter and the arrow keys only, as the group's facilitator; axe on each page."""
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    axe = Axe()
    base, group = served.url, served.node.groups[0]
    async with httpx.AsyncClient(timeout=20, headers=CONSOLE_HEADERS) as http:
        added = await http.post(
            f"{served.node.urls['groups']}/graphql",
            json={"query": ADD_MEMBER, "variables": {"i": {
                "groupId": group, "companyName": f"Näppäinkokous {uuid.uuid4().hex[:6]} Oy",
                "employees": 2, "turnoverEur": 120_000, "joinedOn": "2016-04-01"}}},
        )  # fmt: skip
        member = added.json()["data"]["addMember"]["id"]

        async def known() -> bool:
            found = await http.post(
                f"{served.node.urls['meetings']}/graphql",
                json={"query": KNOWN, "variables": {"g": group}},
            )
            return member in {m["memberId"] for m in found.json()["data"]["knownMembers"]}

        await wait_for(known, timeout=60, message="the meetings service knows the member")

    found: list[str] = []
    async with playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await open_page(browser, locale="fi-FI")
            await sign_in_by_keyboard(page, base, "anna")

            # schedule: the suggested host is preselected; a date that does not exist first
            await page.goto(f"{base}/groups/{group}/meetings/new")
            found += await severe_violations(axe, page)
            suggested = await page.get_attribute("input[name=host]:checked", "value")
            assert suggested, "no host is preselected"
            await check_by_keyboard(page, "input[name=host]:checked")  # Tab lands on it
            start = datetime.now(HELSINKI) - timedelta(minutes=5)  # so it can be held
            await type_into(page, "#theme", "Näppäimistön kokous")
            await type_into(page, "#day", f"31.2.{start.year}")
            await type_into(page, "#time", f"{start:%H.%M}")
            await tab_to(page, "form.stack button[type=submit]")
            await press_and_wait(page)
            assert await page.locator("#day-error").count() == 1, await page.content()
            found += await severe_violations(axe, page)  # the form with its error
            await type_into(page, "#day", f"{start.day}.{start.month}.{start.year}")
            await tab_to(page, "form.stack button[type=submit]")
            await press_and_wait(page)
            assert re.search(r"/meetings/[0-9a-f-]{36}$", page.url), await page.content()
            meeting = page.url.rsplit("/", 1)[1]
            found += await severe_violations(axe, page)  # planned: RSVPs, held, cancel

            # attendance as a checklist, then held
            await check_by_keyboard(page, f"form[action$='/held'] input[value='{member}']")
            await tab_to(page, "form[action$='/held'] button[type=submit]")
            await press_and_wait(page)
            assert await page.locator("form[action$='/attendance']").count() == 1, (
                await page.content()
            )
            box = f"form[action$='/attendance'] input[value='{member}']"
            assert await page.is_checked(box), "the attendee is not recorded"
            found += await severe_violations(axe, page)  # held: correction, memo, follow-ups

            # the memo: previewed, then published. Each answer brings the keyboard back to
            # the memo's section (not behind the header and the attendance checklist), and
            # the confirmation of "held" is there, where a screen reader goes on reading
            assert page.url.endswith("#memo"), page.url
            assert await page.locator("#memo p.notice[role=status]").count() == 1
            assert await page.locator("main > p.notice").count() == 0
            assert await tab_to(page, "#summary") == 1
            await page.keyboard.press("Control+A")
            await page.keyboard.type("Sovittiin näppäimistön käytöstä.")
            assert await tab_to(page, "form[action$='/memo'] button[formaction]") == 1
            await press_and_wait(page)
            assert await page.locator("#preview blockquote").count() == 1
            found += await severe_violations(axe, page)  # the preview
            assert page.url.endswith("/preview#memo"), page.url
            publish = "form[action$='/memo'] button:not([formaction])"
            assert await tab_to(page, publish) == 3  # the text, the preview, publish
            await press_and_wait(page)
            assert await page.locator("#memo p.meta").count() == 1  # "Published ..."

            # a follow-up for the member: past the memo's three controls
            assert await tab_to(page, "#owner") <= 5
            await choose_by_keyboard(page, "#owner", member)
            await type_into(page, "#description", "Pikanäppäinten lista")
            await tab_to(page, "form[action$='/action'] button[type=submit]")
            await press_and_wait(page)
            assert await page.locator("text=Pikanäppäinten lista").count() >= 1
            found += await severe_violations(axe, page)
        finally:
            await browser.close()

    async with httpx.AsyncClient(timeout=20, headers=CONSOLE_HEADERS) as http:
        answer = await http.post(
            f"{served.node.urls['meetings']}/graphql",
            json={"query": RECORDED, "variables": {"id": meeting}},
        )
    recorded = answer.json()["data"]["meeting"]
    assert recorded["hostMemberId"] == suggested
    assert recorded["status"] == "HELD"
    assert recorded["attendeeMemberIds"] == [member]
    assert recorded["memo"]["summary"] == "Sovittiin näppäimistön käytöstä."
    assert not found, "\n".join(found)
