"""DRAFT: the member pages against the real groups service in process (SQLite)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.groups.app import build
from services.groups.orm import Base
from services.groups.settings import GroupsSettings
from shared.storage import create_schema
from tests.console_draft.host import Host, app


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Host, str]]:
    service = build(
        GroupsSettings(region="oulu", database_url=f"sqlite+aiosqlite:///{tmp_path}/g.db")
    )
    await create_schema(service.runtime.engine, Base.metadata)
    groups = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app), base_url="http://groups"
    )
    host = Host({"groups": groups})
    made = await groups.post(
        "/graphql",
        json={
            "query": 'mutation { createGroup(input: {name: "Oulu", foundedOn: "2016-03-01"}) { id } }'
        },
    )
    group = made.json()["data"]["createGroup"]["id"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app(host)),
        base_url="http://console",
        headers={"x-test-user": f"facilitator:{group}"},
    ) as client:
        yield client, host, group
    await groups.aclose()
    await service.runtime.engine.dispose()


async def test_add_refused_then_added_then_duplicate_warning(site):
    client, host, group = site
    page = await client.get(f"/members/new?group={group}")
    assert page.status_code == 200, page.text
    form = {
        "group": group,
        "company_name": "Paja Oy",
        "business_id": "0112038-8",
        "employees": "3",
        "turnover_eur": "250 000",
        "joined_on": "1.4.2016",
    }
    bad = await client.post("/members/new", data=form)
    assert bad.status_code == 422, bad.text
    assert 'id="business_id-error"' in bad.text
    assert 'value="0112038-8"' in bad.text and 'value="250 000"' in bad.text
    good = await client.post("/members/new", data={**form, "business_id": "0112038-9"})
    assert good.status_code == 303, good.text
    member_url = good.headers["location"].split("?")[0]
    shown = await client.get(member_url)
    assert shown.status_code == 200, shown.text
    assert "Paja Oy" in shown.text
    again = await client.post(
        "/members/new", data={**form, "business_id": "", "company_name": "paja oy"}
    )
    assert again.status_code == 200, again.text
    assert "Save anyway" in again.text
    key = re.search(r'name="confirm" value="([^"]*)"', again.text).group(1)
    saved = await client.post(
        "/members/new", data={**form, "business_id": "", "company_name": "paja oy", "confirm": key}
    )
    assert saved.status_code == 303, saved.text
    listed = await client.get("/members?q=paja")
    assert listed.status_code == 200, listed.text
    assert listed.text.count('href="/members/') >= 2
    assert [a[0] for a in host.audits] == ["member.add", "member.add"]


async def test_membership_steps_contacts_consent(site):
    client, host, group = site
    form = {
        "group": group,
        "company_name": "Verstas Oy",
        "employees": "2",
        "turnover_eur": "100000",
        "joined_on": "2016-04-01",
    }
    added = await client.post("/members/new", data=form)
    url = added.headers["location"].split("?")[0]
    bad = await client.post(f"{url}/membership/pause", data={"on": "31.2.2020"})
    assert bad.status_code == 422, bad.text
    assert "31.2.2020" in bad.text
    paused = await client.post(f"{url}/membership/pause", data={"on": "1.1.2020", "reason": "loma"})
    assert paused.status_code == 303, paused.text
    future = await client.post(f"{url}/membership/rejoin", data={"on": "1.1.2099"})
    assert future.status_code == 422, future.text
    contact = await client.post(
        f"{url}/contacts", data={"name": "Åsa Öberg", "email": "asa", "language": "SV"}
    )
    assert contact.status_code == 422, contact.text
    assert 'value="Åsa Öberg"' in contact.text
    contact = await client.post(
        f"{url}/contacts", data={"name": "Åsa Öberg", "email": "asa@verstas.fi", "language": "SV"}
    )
    assert contact.status_code == 303, contact.text
    page = await client.get(url)
    person = re.search(r'action="/persons/([^/]+)/consent"', page.text).group(1)
    given = await client.post(
        f"/persons/{person}/consent", data={"action": "give", "purpose": "RESEARCH_USE"}
    )
    assert given.status_code == 303, given.text
    review = await client.get(f"/erasure/{person}")
    assert review.status_code == 403
    other = await client.get(
        url, headers={"x-test-user": "facilitator:" + "0" * 8 + "-0000-0000-0000-000000000000"}
    )
    assert other.status_code == 403


async def test_import_preview_then_confirm(site):
    client, host, group = site
    csv = "company_name,employees,turnover_eur,joined_on,business_id\nA Oy,2,1000,1.4.2016,0112038-9\nB Oy,12,1000,1.4.2016,\n"
    checked = await client.post("/members/import", data={"group": group, "csv": csv})
    assert checked.status_code == 422, checked.text
    assert "B Oy" not in checked.text or "12" in checked.text
    good = csv.replace("B Oy,12", "B Oy,2")
    assert "12 employees" in checked.text
    preview = await client.post("/members/import", data={"group": group, "csv": good})
    assert preview.status_code == 200, preview.text
    assert "A Oy" in preview.text
    listed = await client.get(f"/members?group={group}")
    assert "A Oy" not in listed.text
    done = await client.post("/members/import/confirm", data={"group": group, "csv": good})
    assert done.status_code == 303, done.text
    listed = await client.get(f"/members?group={group}")
    assert "A Oy" in listed.text and "B Oy" in listed.text


async def test_groups_and_erasure_as_admin(site):
    client, host, group = site
    admin = {"x-test-user": "admin:"}
    listed = await client.get("/groups", headers=admin)
    assert listed.status_code == 200, listed.text
    assert "Found a core group" in listed.text
    bad = await client.post("/groups", data={"name": "", "founded_on": "huomenna"}, headers=admin)
    assert bad.status_code == 422, bad.text
    made = await client.post(
        "/groups",
        data={"name": "Kemi", "municipality": "Kemi", "founded_on": "1.1.2020"},
        headers=admin,
    )
    assert made.status_code == 303, made.text
    nope = await client.post("/groups", data={"name": "X", "founded_on": "1.1.2020"})
    assert nope.status_code == 403
    form = {
        "group": group,
        "company_name": "Verstas Oy",
        "employees": "2",
        "turnover_eur": "100000",
        "joined_on": "2016-04-01",
    }
    url = (await client.post("/members/new", data=form)).headers["location"].split("?")[0]
    await client.post(
        f"{url}/contacts", data={"name": "Åsa Öberg", "email": "asa@verstas.fi", "language": "SV"}
    )
    found = await client.get("/erasure?q=oberg", headers=admin)
    assert found.status_code == 200, found.text
    person = re.search(r'href="/erasure/([^"]+)"', found.text).group(1)
    review = await client.get(f"/erasure/{person}", headers=admin)
    assert "Åsa Öberg" in review.text and "cannot be undone" in review.text
    unconfirmed = await client.post(f"/erasure/{person}", data={}, headers=admin)
    assert unconfirmed.status_code == 422
    done = await client.post(f"/erasure/{person}", data={"confirm": "yes"}, headers=admin)
    assert done.status_code == 200, done.text
    assert "Åsa" not in done.text
    gone = await client.get("/erasure?q=oberg", headers=admin)
    assert "Review erasure" not in gone.text
    assert host.audits[-1][0] == "person.erase"
    assert "Åsa" not in str(host.audits)
