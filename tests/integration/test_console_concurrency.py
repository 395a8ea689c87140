"""Two people using the console at once: one's page waiting for a slow service does not hold
up the other's. The console's SQLite database has one writer at a time (BEGIN IMMEDIATE
after a write turn); a page's transaction that stayed open while it asked the services
made every other page wait for it.

The real services (processes), the console in process, its requests to the groups service
slowed down on demand.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from services.console.app import build
from tests.fixtures.console import PASSWORD, Browser, Node, add_staff, console_settings
from tests.fixtures.credentials import TEST_CREDENTIALS

pytestmark = [pytest.mark.nats]

SLOW_SECONDS = 3.0


class SlowGroups(httpx.AsyncBaseTransport):
    """Real HTTP; while ``slow`` is set, requests to the groups service take 3 s more."""

    def __init__(self, node: Node) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.groups = node.urls["groups"]
        self.slow = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.slow and str(request.url).startswith(self.groups):
            await asyncio.sleep(SLOW_SECONDS)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_page_waiting_for_a_service_does_not_hold_up_another(
    console_node: Node, tmp_path: Path
):
    settings = console_settings(console_node, tmp_path / "console.db", "https://console.test")
    transport = SlowGroups(console_node)
    app = build(settings, credentials=TEST_CREDENTIALS, transport=transport)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.app.router.lifespan_context(app.app))
        await add_staff(app, console_node)
        browsers = []
        for username in ("anna", "admin"):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app.app),
                base_url="https://console.test",
                headers={"Accept-Language": "en"},
            )
            await stack.enter_async_context(http)
            browser = Browser(http, app)
            assert (await browser.sign_in(username, PASSWORD)).status_code == 303
            browsers.append(browser)
        anna, admin = browsers

        transport.slow = True
        waiting = asyncio.create_task(anna.http.get("/groups"))  # asks the groups service
        await asyncio.sleep(0.5)  # anna's page is waiting for its answer now
        started = time.monotonic()
        other = await admin.http.get("/admin/tokens")  # the console's own data only
        took = time.monotonic() - started
        assert other.status_code == 200
        assert not waiting.done()
        assert took < SLOW_SECONDS - 1, f"the admin's page waited {took:.1f} s for anna's"
        assert (await waiting).status_code == 200
