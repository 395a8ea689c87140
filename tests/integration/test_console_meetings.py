"""The console's meeting pages against the region's real services (processes, NATS between
them): a month of a core group — scheduled with the suggested host by name, RSVPs, "held"
refused before the start, attendance as a checklist, the memo previewed with its names
masked then published, a follow-up, a CoP activity, an initiative, attendance corrected,
cancelling — the month view, the members' iCal link without sign-in, and a facilitator kept
to their own groups; every change in the audit trail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from services.console.audit import entries
from shared.i18n.formats import HELSINKI
from tests.fixtures.console import Browser
from tests.fixtures.credentials import CONSOLE_HEADERS
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.nats]

KNOWN = "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }"
MEETING = """query($id: UUID!) { meeting(id: $id) { status attendeeMemberIds
  memo { summary } rsvps { memberId coming } } }"""


async def api(url: str, query: str, **variables: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20) as http:
        answer = await http.post(
            f"{url}/graphql", json={"query": query, "variables": variables}, headers=CONSOLE_HEADERS
        )
    body = answer.json()
    assert not body.get("errors"), body
    return dict(body["data"])


async def add_member(browser: Browser, group: str, name: str, person: str = "") -> str:
    fields = {"company_name": name, "employees": "2", "turnover_eur": "90000",
              "joined_on": "1.4.2016", "group": group}  # fmt: skip
    added = await browser.post_form("/members/new", f"/members/new?group={group}", **fields)
    assert added.status_code == 303, added.text
    member = added.headers["location"].rsplit("/", 1)[1]
    if person:
        contact = {"name": person, "email": "kontakti@example.fi", "language": "FI"}
        done = await browser.post_form(f"/members/{member}/contacts", "/", **contact)
        assert done.status_code == 303, done.text
    return member


async def schedule(browser: Browser, group: str, host: str, theme: str, at: datetime) -> str:
    page = f"/groups/{group}/meetings/new"
    fields = {"host": host, "theme": theme, "day": f"{at:%d.%m.%Y}", "time": f"{at:%H.%M}"}
    return meeting_id(await browser.post_form(page, page, **fields))


async def act(browser: Browser, meeting: str, action: str, **fields: str | list[str]) -> int:
    """A form of the meeting's page sent; the answer's status (303: done)."""
    page = f"/meetings/{meeting}"
    return (await browser.post_form(f"{page}/{action}", page, **fields)).status_code


def meeting_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/meetings/([0-9a-f-]{36})", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


async def test_a_month_of_a_core_group_in_the_console(console, console_node):
    urls, group = console_node.urls, console_node.groups[0]
    anna = await console()
    await anna.sign_in("anna")
    host = await add_member(anna, group, "Isäntä Oy", person="Åsa Öberg")
    guest = await add_member(anna, group, "Vieras Ky")

    async def known() -> bool:
        found = await api(urls["meetings"], KNOWN, g=group)
        return {host, guest} <= {m["memberId"] for m in found["knownMembers"]}

    await wait_for(known, timeout=30, message="the meetings service knows both members")

    form_page = f"/groups/{group}/meetings/new"
    page = await anna.http.get(form_page)
    assert page.status_code == 200
    fieldset = page.text[page.text.find("<fieldset") : page.text.find("</fieldset>")]
    assert "Isäntä Oy" in fieldset, fieldset  # the suggested host by name
    assert "has not hosted" in fieldset.lower(), fieldset  # and why
    wrong = {"host": host, "theme": "Hinnoittelu", "day": "31.2.2026", "time": "18.00"}
    refused = await anna.post_form(form_page, form_page, **wrong)
    assert refused.status_code == 422
    assert 'value="31.2.2026"' in refused.text  # what was typed is kept
    assert 'value="Hinnoittelu"' in refused.text

    now = datetime.now(HELSINKI)
    future = await schedule(anna, group, host, "Vientimessut", now + timedelta(days=3))
    assert await act(anna, future, "rsvp", member=guest, coming="1") == 303
    page_url = f"/meetings/{future}"
    held_early = await anna.post_form(f"{page_url}/held", page_url, present=[host, guest])
    assert held_early.status_code == 422  # the meeting has not started: refused, shown
    assert "problems" in held_early.text
    assert (await api(urls["meetings"], MEETING, id=future))["meeting"]["status"] == "PLANNED"

    earlier = now - timedelta(hours=2)
    past = await schedule(anna, group, host, "Hinnoittelu", earlier)
    assert await act(anna, past, "held", present=[host]) == 303
    page_url = f"/meetings/{past}"
    memo = "Åsa Öberg kertoi Isäntä Oy:n hinnoittelusta."
    preview = await anna.post_form(f"{page_url}/preview", page_url, summary=memo)
    assert preview.status_code == 200, re.findall(r'<li class="error">[^<]*', preview.text)
    national = re.search(r"<blockquote>(.*?)</blockquote>", preview.text, re.S)
    assert national is not None
    assert "Öberg" not in national.group(1)
    assert "[name]" in national.group(1)
    assert await act(anna, past, "memo", summary=memo) == 303
    assert await act(anna, past, "action", owner=guest, description="Hinnasto uusiksi") == 303
    example = "Hinnoittelun ongelma ratkottiin"
    activity: dict[str, str | list[str]] = {
        "type": "PROBLEM_SOLVING",
        "example": example,
        "involved": [host],
    }
    assert await act(anna, past, "activity", **activity) == 303
    initiative: dict[str, str | list[str]] = {"title": "Yhteishankinta", "partners": [host, guest]}
    assert await act(anna, past, "initiative", **initiative) == 303
    assert await act(anna, past, "attendance", present=[host, guest]) == 303

    shown = await anna.http.get(page_url)
    # the confirmation sits in the section the page comes back to (#attendance: where the
    # keyboard and a screen reader land), not at the top of the page
    notices = [m.start() for m in re.finditer(r'<p class="notice" role="status">', shown.text)]
    section = shown.text.index('<section aria-labelledby="attendance-h" id="attendance">')
    assert len(notices) == 1, notices
    assert section < notices[0] < shown.text.index("<section", section + 1)
    assert "Åsa Öberg kertoi" in shown.text  # the region keeps the original
    assert "Hinnasto uusiksi" in shown.text
    assert "Yhteishankinta" in shown.text
    after = (await api(urls["meetings"], MEETING, id=past))["meeting"]
    assert set(after["attendeeMemberIds"]) == {host, guest}
    assert after["memo"]["summary"] == memo
    # the open follow-up is on the next meeting's agenda
    assert "Hinnasto uusiksi" in (await anna.http.get(f"/meetings/{future}")).text

    month = {"month": f"{earlier:%Y-%m}"}
    in_month = await anna.http.get(f"/groups/{group}/meetings/month", params=month)
    assert f'href="/meetings/{past}"' in in_month.text
    listed = await anna.http.get(f"/groups/{group}/meetings")
    link = re.search(r'href="https?://[^/"]+(/calendar/group/[^"]+\.ics)"', listed.text)
    assert link is not None
    stranger = await console()  # not signed in
    feed = await stranger.http.get(link.group(1))
    assert feed.status_code == 200
    assert "BEGIN:VCALENDAR" in feed.text
    assert "Isäntä Oy" in feed.text
    guessed = await stranger.http.get(f"{link.group(1)[:-8]}0000.ics")
    assert guessed.status_code == 404

    assert await act(anna, future, "cancel", reason="Sairastapaus", confirm="1") == 303
    assert (await api(urls["meetings"], MEETING, id=future))["meeting"]["status"] == "CANCELLED"

    async with anna.console.console.sessions() as db:
        trail, _total = await entries(db, actor="anna")
    done = {e.action for e in trail}
    assert {"meeting.schedule", "meeting.hold", "memo.publish", "attendance.correct",
            "action.agree", "activity.record", "initiative.start", "meeting.cancel",
            "rsvp.record"} <= done  # fmt: skip


async def test_a_facilitator_cannot_open_nor_change_another_groups_meetings(console, console_node):
    admin = await console()
    await admin.sign_in("admin")
    other = console_node.groups[1]
    member = await add_member(admin, other, "Toinen Oy")

    async def known() -> bool:
        found = await api(console_node.urls["meetings"], KNOWN, g=other)
        return member in {m["memberId"] for m in found["knownMembers"]}

    await wait_for(known, timeout=30, message="the meetings service knows the member")
    soon = datetime.now(HELSINKI) + timedelta(days=5)
    meeting = await schedule(admin, other, member, "Toisten asia", soon)
    anna = await console()
    await anna.sign_in("anna")
    for url in (
        f"/groups/{other}/meetings",
        f"/groups/{other}/meetings/month",
        f"/groups/{other}/meetings/new",
        f"/meetings/{meeting}",
    ):
        assert (await anna.http.get(url)).status_code == 403, url
    token = re.search(r'name="csrf_token" value="([^"]+)"', (await anna.http.get("/")).text)
    assert token is not None
    changed = await anna.http.post(
        f"/meetings/{meeting}/cancel", data={"reason": "x", "csrf_token": token.group(1)}
    )
    assert changed.status_code == 403
