"""The console's member, import, group and erasure pages against the region's real
services (processes, over HTTP; tests/fixtures/console.py): refusals at their fields with
the values kept, the likely-duplicate confirmation, membership steps, contacts and consent,
the CSV preview before anything is saved, a facilitator kept to their groups, the audit."""

from __future__ import annotations

import re

import httpx
import pytest

from services.console.audit import entries
from tests.fixtures.console import Browser

pytestmark = [pytest.mark.nats]

FORM = {
    "company_name": "Paja Oy",
    "business_id": "0112038-8",  # the check digit is wrong: 0112038-9
    "employees": "3",
    "turnover_eur": "250 000",
    "joined_on": "1.4.2016",
}


def member_url(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def add(browser: Browser, group: str, **fields: str) -> httpx.Response:
    page = f"/members/new?group={group}"
    return await browser.post_form("/members/new", page, group=group, **{**FORM, **fields})


async def audited(browser: Browser, user: str) -> list[tuple[str, str]]:
    async with browser.console.console.sessions() as db:
        trail, _total = await entries(db, actor=user)
    return [(e.action, e.target) for e in trail]


async def test_a_member_is_refused_at_its_field_then_added_and_a_duplicate_confirmed(
    console, console_node
):
    anna = await console()
    await anna.sign_in("anna")
    group = console_node.groups[0]
    refused = await add(anna, group, company_name="Pajatso Oy")
    assert refused.status_code == 422
    assert 'id="business_id-error"' in refused.text
    assert "0112038-8" in refused.text  # the value as typed, at the field and in the message
    assert 'value="250 000"' in refused.text
    url = member_url(await add(anna, group, company_name="Pajatso Oy", business_id="0112038-9"))
    page = await anna.http.get(url)
    assert "Pajatso Oy" in page.text
    assert "Pajatso Oy was added to the group." in page.text  # the confirmation, once

    same_name = {"company_name": "pajatso oy", "business_id": ""}
    warned = await add(anna, group, **same_name)
    assert warned.status_code == 200
    assert "has the same name" in warned.text
    assert "Save anyway" in warned.text
    key = re.search(r'name="confirm" value="([^"]*)"', warned.text)
    assert key is not None
    saved = await add(anna, group, **same_name, confirm=key.group(1))
    second = member_url(saved)
    assert second != url
    found = await anna.http.get("/members", params={"q": "pajatso"})
    assert found.text.count('<th scope="row"><a href="/members/') == 2
    actions = await audited(anna, "anna")
    assert [a for a, _ in actions].count("member.add") == 2
    assert (
        await anna.post_form("/language", "/", language="sv", next="/members")
    ).status_code == 303
    swedish = await anna.http.get("/members/new")
    assert "Lägg till en medlem" in swedish.text
    assert "FO-nummer (Y-tunnus)" in swedish.text
    assert (("member.add", "member:" + second.rsplit("/", 1)[1])) in actions


async def test_a_facilitator_sees_and_changes_only_the_members_of_their_groups(
    console, console_node
):
    admin = await console()
    await admin.sign_in("admin")
    other = member_url(await add(admin, console_node.groups[1], company_name="Kemin Paja Oy",
                                 business_id=""))  # fmt: skip
    anna = await console()
    await anna.sign_in("anna")
    assert (await anna.http.get(other)).status_code == 403
    assert (await anna.http.get(f"{other}/interviews")).status_code == 403
    step = await anna.post_form(f"{other}/membership/pause", "/members", on="1.1.2020")
    assert step.status_code == 403
    listed = await anna.http.get("/members", params={"q": "kemin"})
    assert "Kemin Paja Oy" not in listed.text
    assert (
        await anna.http.get("/members", params={"group": console_node.groups[1]})
    ).status_code == 403
    refused = await add(anna, console_node.groups[1], company_name="Tornion Paja Oy")
    assert refused.status_code == 403
    assert (await anna.http.get("/admin/erasure")).status_code == 403
    assert "Kemin Paja Oy" in (await admin.http.get("/members", params={"q": "kemin"})).text


async def test_membership_steps_contacts_consent_then_erasure_on_request(console, console_node):
    anna = await console()
    await anna.sign_in("anna")
    url = member_url(await add(anna, console_node.groups[0], company_name="Verstas Öberg Oy",
                               business_id=""))  # fmt: skip
    bad = await anna.post_form(f"{url}/membership/pause", url, on="31.2.2020", reason="loma")
    assert bad.status_code == 422
    assert 'value="31.2.2020"' in bad.text
    assert 'value="loma"' in bad.text
    future = await anna.post_form(f"{url}/membership/pause", url, on="1.1.2099")
    assert future.status_code == 422
    assert "future" in future.text
    assert member_url(await anna.post_form(f"{url}/membership/pause", url, on="1.1.2020"))
    assert "Paused" in (await anna.http.get(url)).text
    assert member_url(await anna.post_form(f"{url}/membership/rejoin", url, on="1.2.2020"))

    contact = {"name": "Åsa Öberg", "email": "asa", "phone": "", "language": "SV"}
    wrong = await anna.post_form(f"{url}/contacts", url, **contact)
    assert wrong.status_code == 422
    assert 'value="Åsa Öberg"' in wrong.text
    assert 'aria-invalid="true" aria-describedby="contact-email-error"' in wrong.text
    assert 'href="#contact-email"' in wrong.text  # the summary at the top links to the field
    contact["email"] = "asa@verstas.example.fi"
    assert member_url(await anna.post_form(f"{url}/contacts", url, **contact))
    page = await anna.http.get(url)
    person = re.search(r'action="/persons/([^/"]+)/consent"', page.text)
    assert person is not None
    given = await anna.post_form(
        f"/persons/{person.group(1)}/consent", url, action="give", purpose="RESEARCH_USE"
    )
    assert member_url(given)
    assert "Withdraw consent" in (await anna.http.get(url)).text

    admin = await console()
    await admin.sign_in("admin")
    review_url = f"/admin/erasure/{person.group(1)}"
    assert review_url not in page.text  # a facilitator does not erase
    assert review_url in (await admin.http.get(url)).text
    found = await admin.http.get("/admin/erasure", params={"q": "oberg"})
    assert review_url in found.text
    review = await admin.http.get(review_url)
    assert "Åsa Öberg" in review.text
    assert "cannot be undone" in review.text
    assert "use of the data in research" in review.text  # the consent withdrawn with it
    unconfirmed = await admin.post_form(review_url, review_url)
    assert unconfirmed.status_code == 422
    done = await admin.post_form(review_url, review_url, confirm="yes")
    assert done.status_code == 200
    assert "Åsa" not in done.text
    assert review_url not in (await admin.http.get("/admin/erasure", params={"q": "oberg"})).text
    assert "Erased person" in (await anna.http.get(url)).text
    assert ("person.erase", f"person:{person.group(1)}") in await audited(admin, "admin")


async def test_a_csv_import_is_previewed_with_every_rows_errors_then_imported(
    console, console_node
):
    anna = await console()
    await anna.sign_in("anna")
    group = console_node.groups[0]
    page = f"/members/import?group={group}"
    csv = (
        "company_name,employees,turnover_eur,joined_on,business_id\n"
        "Alfa Tuonti Oy,2,1000,1.4.2016,\n"
        "Beta Tuonti Oy,12,1000,1.4.2016,\n"
        "Gamma Tuonti Oy,2,1000,1.4.2099,\n"
    )
    checked = await anna.post_form("/members/import", page, group=group, csv=csv)
    assert checked.status_code == 422
    assert "<td>3</td>" in checked.text
    assert "12 employees" in checked.text
    assert "<td>4</td>" in checked.text
    good = csv.replace(",12,", ",2,").replace("1.4.2099", "1.4.2017")
    preview = await anna.post_form("/members/import", page, group=group, csv=good)
    assert preview.status_code == 200
    assert "Members to import: 3" in preview.text
    listed = await anna.http.get("/members", params={"q": "tuonti"})
    assert "Alfa Tuonti Oy" not in listed.text  # nothing saved by the preview
    done = await anna.post_form("/members/import/confirm", page, group=group, csv=good)
    assert done.status_code == 303, done.text
    listed = await anna.http.get("/members", params={"q": "tuonti"})
    assert listed.text.count("Tuonti Oy</a>") == 3
    assert ("member.import", f"group:{group}") in await audited(anna, "anna")


async def test_groups_are_listed_and_an_admin_founds_one(console):
    admin = await console()
    await admin.sign_in("admin")
    bad = await admin.post_form("/groups", "/groups", name="", founded_on="huomenna")
    assert bad.status_code == 422
    assert 'value="huomenna"' in bad.text
    made = await admin.post_form("/groups", "/groups", name="Ryhmä C", founded_on="1.1.2020")
    assert made.status_code == 303
    assert "Ryhmä C" in (await admin.http.get("/groups")).text
    anna = await console()
    await anna.sign_in("anna")
    listed = await anna.http.get("/groups")
    assert "Ryhmä A" in listed.text
    assert "Ryhmä C" not in listed.text
    assert (
        await anna.post_form("/groups", "/groups", name="X", founded_on="1.1.2020")
    ).status_code == 403


async def test_a_member_is_edited_with_the_same_checks_and_a_figure_cannot_be_removed(
    console, console_node
):
    anna = await console()
    await anna.sign_in("anna")
    url = member_url(await add(anna, console_node.groups[0], company_name="Muokkauspaja Oy",
                               business_id=""))  # fmt: skip
    form = await anna.http.get(f"{url}/edit")
    assert form.status_code == 200
    assert 'value="Muokkauspaja Oy"' in form.text
    assert 'value="250\u00a0000"' in form.text or 'value="250 000"' in form.text
    edited = {"company_name": "Muokkauspaja Oy", "business_id": "1000000-3", "industry_code": "",
              "employees": "4", "turnover_eur": "", "balance_sheet_eur": "",
              "address": "Rantakatu 1, 90100 Oulu"}  # fmt: skip
    refused = await anna.post_form(f"{url}/edit", f"{url}/edit", **edited)
    assert refused.status_code == 422
    assert 'id="business_id-error"' in refused.text
    assert 'id="turnover_eur-error"' in refused.text  # emptied: it can be corrected only
    assert 'value="Rantakatu 1, 90100 Oulu"' in refused.text
    edited.update(business_id="1000000-4", turnover_eur="300 000")
    assert member_url(await anna.post_form(f"{url}/edit", f"{url}/edit", **edited)) == url
    page = await anna.http.get(url)
    assert "1000000-4" in page.text
    assert "Rantakatu 1, 90100 Oulu" in page.text
    member_id = url.rsplit("/", 1)[1]
    assert ("member.update", f"member:{member_id}") in await audited(anna, "anna")


async def test_the_form_script_asks_the_same_checks_before_sending(console, console_node):
    anna = await console()
    await anna.sign_in("anna")
    group = console_node.groups[0]
    page = f"/members/new?group={group}"
    assert 'src="/static/member-form.js"' in (await anna.http.get(page)).text
    assert (await anna.http.get("/static/member-form.js")).status_code == 200
    fields = {"group": group, "company_name": "Tarkistuspaja Oy", "business_id": "0112038-8",
              "employees": "12", "turnover_eur": "100 000", "joined_on": "1.4.2016"}  # fmt: skip
    checked = await anna.post_form("/members/check", page, **fields)
    assert checked.status_code == 200
    problems = checked.json()["problems"]
    assert set(problems) == {"business_id", "employees"}
    assert "0112038-8" in problems["business_id"]
    member_url(await add(anna, group, company_name="Tarkistuspaja Oy", business_id=""))
    again = await anna.post_form("/members/check", page, **{**fields, "business_id": ""})
    warning = again.json()["warnings"]["company_name"]
    assert warning["company"] == "Tarkistuspaja Oy"
    other = {**fields, "group": console_node.groups[1]}
    assert (await anna.post_form("/members/check", page, **other)).status_code == 403
    no_token = await anna.http.post("/members/check", data=fields)
    assert no_token.status_code == 403
