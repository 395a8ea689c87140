"""Sign-in through an OpenID Connect provider: a real local one (oidc-provider-mock) in a
thread, the console against the region's real services."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.console.accounts import StaffStore
from services.console.app import build
from services.console.settings import ConsoleSettings
from tests.fixtures.credentials import TEST_CREDENTIALS

pytestmark = [pytest.mark.nats]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
async def oidc_console(
    console_node: Any, provider: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Any]:
    create = getattr(request, "param", False)
    settings = ConsoleSettings(
        database_url=f"sqlite:///{tmp_path / 'console.db'}",
        public_url="https://console.test",
        groups_url=console_node.urls["groups"],
        meetings_url=console_node.urls["meetings"],
        feedback_url=console_node.urls["feedback"],
        oidc_issuer=provider,
        oidc_client_id=f"console-{uuid.uuid4().hex[:6]}",
        oidc_client_secret="s3cret-of-the-console",
        oidc_create_accounts=create,
    )
    app = build(settings, credentials=TEST_CREDENTIALS)
    async with app.app.router.lifespan_context(app.app):
        async with app.console.sessions() as db:
            await StaffStore(db).add(
                "anna", role="facilitator", password=None, email="anna@agency.fi",
                groups=(uuid.UUID(console_node.groups[0]),),
            )  # fmt: skip
            await db.commit()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app),
            base_url="https://console.test",
            headers={"Accept-Language": "en"},
        ) as browser:
            yield browser, app


async def sign_in_at_provider(browser: httpx.AsyncClient, sub: str) -> httpx.Response:
    """The console sends the browser to the provider; the person signs in there as ``sub``;
    the provider sends the browser back to the console."""
    start = await browser.get("/signin/oidc", params={"next": "/"})
    assert start.status_code == 303, start.text
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    async with httpx.AsyncClient() as provider:  # the provider's own page, over HTTP
        form = await provider.post(authorize, data={"sub": sub})
    assert form.status_code in (302, 303), form.text
    back = urlsplit(form.headers["location"])
    assert back.path == "/signin/oidc/callback"
    return await browser.get(f"{back.path}?{back.query}")


async def test_an_existing_account_signs_in_through_the_provider_by_its_email(oidc_console):
    browser, app = oidc_console
    page = await browser.get("/signin")
    assert "/signin/oidc" in page.text
    done = await sign_in_at_provider(browser, "anna@agency.fi")
    assert done.status_code == 303, done.text
    home = await browser.get("/")
    assert home.status_code == 200
    assert "Ryhmä A" in home.text
    async with app.console.sessions() as db:
        anna = await StaffStore(db).by_sign_in("anna@agency.fi", "")
    assert anna is not None  # linked: found by the subject alone now
    assert anna.username == "anna"


async def test_a_person_without_an_account_is_refused(oidc_console):
    browser, _app = oidc_console
    refused = await sign_in_at_provider(browser, "stranger@agency.fi")
    assert refused.status_code == 401
    assert "no account" in refused.text
    assert (await browser.get("/")).status_code == 303


@pytest.mark.parametrize("oidc_console", [True], indirect=True)
async def test_with_account_creation_on_a_newcomer_becomes_a_facilitator_without_groups(
    oidc_console,
):
    browser, _app = oidc_console
    done = await sign_in_at_provider(browser, "ville.uusi@agency.fi")
    assert done.status_code == 303, done.text
    home = await browser.get("/")
    assert home.status_code == 200
    assert "Ryhmä A" not in home.text  # no groups until an admin assigns them
    assert "Ryhmä B" not in home.text
    assert (await browser.get("/admin")).status_code == 403


async def test_a_forged_or_replayed_callback_signs_no_one_in(oidc_console):
    browser, _app = oidc_console
    forged = await browser.get("/signin/oidc/callback", params={"code": "x", "state": "y"})
    assert forged.status_code == 401
    assert (await browser.get("/")).status_code == 303
