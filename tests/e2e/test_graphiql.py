"""GraphiQL comes from the project's own files (no CDN) and works in a real browser: the
gateway's national API, asked for its schema by the IDE over the same origin only."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, service_process

pytestmark = [pytest.mark.e2e, pytest.mark.nats]


async def test_the_gateways_graphiql_loads_from_its_own_origin(
    playwright: Any,
    nats_hub: Any,
    tmp_path: Path,
) -> None:
    gateway = service_process(
        tmp_path, "gateway", f"sqlite:///{tmp_path / 'gateway.db'}", nats_hub.client_url
    )
    gateway.spawn()
    try:
        gateway.wait_healthy(timeout=60)
        base = gateway.health_url.removesuffix("/healthz")
        origin = urlsplit(base).netloc
        requests: list[tuple[str, str]] = []
        errors: list[str] = []
        async with playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page()
                page.on("request", lambda r: requests.append((r.method, r.url)))
                page.on("pageerror", lambda e: errors.append(str(e)))
                await page.goto(f"{base}/graphql")
                await page.wait_for_selector(".graphiql-container", timeout=30_000)
                await page.wait_for_function(
                    "() => document.querySelector('.graphiql-execute-button') !== null",
                    timeout=30_000,
                )
            finally:
                await browser.close()
    finally:
        gateway.stop()
    assert errors == []
    hosts = {urlsplit(url).netloc for _, url in requests if not url.startswith("data:")}
    assert hosts == {origin}, requests  # nothing from a CDN
    assert ("POST", f"{base}/graphql") in requests  # the IDE asked the API for its schema
