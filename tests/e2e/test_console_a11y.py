"""The console's accessibility in a real browser (issue 9, part 9): axe-core (the copy that
axe-playwright-python ships; nothing from a CDN) finds no serious or critical violation on
any console page, every GET page enumerated from the one place pages are registered, with
real items of the region's services behind it; and the main forms work by keyboard alone
(Tab to each field, type, Enter), the refusal at a field included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from deploy.natsserver import free_port
from services.console.app import build
from services.console.pages import AREAS
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, serve_http
from tests.fixtures.console import PASSWORD, Node, add_staff, console_settings, schedule_meeting
from tests.fixtures.credentials import TEST_CREDENTIALS

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


async def tab_to(page: Any, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus (reachable by keyboard), or fail."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
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
            page = await browser.new_page(locale="fi-FI")
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
