"""The member pages' main flow with the console and the groups service on PostgreSQL (the
groups service in process; the other tests run them as processes on SQLite)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from services.console.accounts import StaffStore
from services.console.app import build
from services.console.settings import ConsoleSettings
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from shared.storage.migrations import migrate
from tests.fixtures.console import CREATE_GROUP, PASSWORD, Browser
from tests.fixtures.credentials import CONSOLE_HEADERS, TEST_CREDENTIALS

pytestmark = [pytest.mark.postgres]


@pytest.fixture
async def site(make_database_url, db_backend) -> AsyncIterator[tuple[Browser, Browser, str]]:
    if db_backend != "postgres":
        pytest.skip("the SQLite runs are the other console tests")
    groups = build_groups(GroupsSettings(region="oulu", database_url=await make_database_url("g")))
    runtime = groups.runtime
    await migrate(runtime.engine, runtime.migrations, version_table="alembic_version_groups")
    settings = ConsoleSettings(
        region="oulu",
        database_url=await make_database_url("console"),
        public_url="https://console.test",
        groups_url="http://groups.test",
    )
    app = build(settings, credentials=TEST_CREDENTIALS, transport=httpx.ASGITransport(groups.app))
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.app.router.lifespan_context(app.app))
        made = await app.console.backend.http.post(
            "http://groups.test/graphql",
            json={"query": CREATE_GROUP, "variables": {"n": "Ryhmä P"}},
            headers=CONSOLE_HEADERS,
        )
        group = made.json()["data"]["createGroup"]["id"]
        async with app.console.sessions() as db:
            store = StaffStore(db)
            await store.add("admin", role="admin", password=PASSWORD, display_name="Ada")
            await store.add("anna", role="facilitator", password=PASSWORD, display_name="Anna",
                            groups=(uuid.UUID(group),))  # fmt: skip
            await db.commit()
        browsers = []
        for user in ("anna", "admin"):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app.app),
                base_url="https://console.test",
                headers={"Accept-Language": "en"},
            )
            await stack.enter_async_context(http)
            browser = Browser(http, app)
            assert (await browser.sign_in(user)).status_code == 303
            browsers.append(browser)
        yield browsers[0], browsers[1], group
    await runtime.engine.dispose()


async def test_members_added_imported_and_a_person_erased_on_postgresql(site):
    anna, admin, group = site
    page = f"/members/new?group={group}"
    form = {"group": group, "company_name": "Pg Paja Oy", "business_id": "0112038-8",
            "employees": "3", "turnover_eur": "250 000", "joined_on": "1.4.2016"}  # fmt: skip
    refused = await anna.post_form("/members/new", page, **form)
    assert refused.status_code == 422
    assert 'id="business_id-error"' in refused.text
    added = await anna.post_form("/members/new", page, **{**form, "business_id": "0112038-9"})
    assert added.status_code == 303, added.text
    url = added.headers["location"]
    contact = {"name": "Pirkko Pg", "email": "pirkko@pg.example.fi", "language": "FI"}
    assert (await anna.post_form(f"{url}/contacts", url, **contact)).status_code == 303

    csv = "company_name,employees,turnover_eur,joined_on\nPg Tuonti Oy,2,1000,1.4.2016\n"
    importing = f"/members/import?group={group}"
    preview = await anna.post_form("/members/import", importing, group=group, csv=csv)
    assert "Members to import: 1" in preview.text
    done = await anna.post_form("/members/import/confirm", importing, group=group, csv=csv)
    assert done.status_code == 303
    listed = await anna.http.get("/members", params={"q": "pg"})
    assert "Pg Tuonti Oy" in listed.text
    assert "Pirkko Pg" in listed.text

    found = await admin.http.get("/admin/erasure", params={"q": "pirkko"})
    person = found.text.split('href="/admin/erasure/')[1].split('"')[0]
    erased = await admin.post_form(f"/admin/erasure/{person}", f"/admin/erasure/{person}",
                                   confirm="yes")  # fmt: skip
    assert erased.status_code == 200
    assert "Pirkko" not in (await anna.http.get(url)).text
