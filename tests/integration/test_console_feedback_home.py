"""The console's feedback and home pages against the region's real services (processes,
NATS between them): a meeting held with a member added through the console opens a survey
that the feedback pages show (without results until k answers), and the home page shows
the next meeting, the open follow-up, the survey waiting for answers and the hub link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.console import service_api
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.nats]

KNOWN = "query($g: UUID!) { knownMembers(groupId: $g) { memberId } }"
SCHEDULE = """mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { id } }"""
HELD = """mutation($i: RecordMeetingHeldInput!) { recordMeetingHeld(input: $i) { id } }"""
AGREE = """mutation($i: AgreeActionInput!) { agreeAction(input: $i) { id } }"""
SURVEYS = """query($g: [UUID!]) { surveys(groupIds: $g) { surveys { meetingId invited } } }"""


async def test_surveys_and_the_home_page_of_a_facilitator(console, console_node):
    urls, group = console_node.urls, console_node.groups[0]
    anna = await console()
    await anna.sign_in("anna")
    fields = {"company_name": "Kyselypaja Oy", "employees": "2", "turnover_eur": "90000",
              "joined_on": "1.4.2016", "group": group}  # fmt: skip
    added = await anna.post_form("/members/new", f"/members/new?group={group}", **fields)
    assert added.status_code == 303, added.text
    member = added.headers["location"].rsplit("/", 1)[1]
    contact = {"name": "Kaija Kysely", "email": "kaija@kysely.example.fi", "language": "FI"}
    assert (await anna.post_form(f"/members/{member}/contacts", "/", **contact)).status_code == 303

    async def known() -> bool:
        found = await service_api(urls["meetings"], KNOWN, g=group)
        return member in {m["memberId"] for m in found["knownMembers"]}

    await wait_for(known, timeout=30, message="the meetings service knows the member")
    now = datetime.now(UTC)
    past = {"groupId": group, "hostMemberId": member, "theme": "Hinnoittelu",
            "startsAt": (now - timedelta(hours=3)).isoformat()}  # fmt: skip
    held = (await service_api(urls["meetings"], SCHEDULE, i=past))["scheduleMeeting"]["id"]
    await service_api(urls["meetings"], HELD, i={"meetingId": held, "attendeeMemberIds": [member]})
    await service_api(
        urls["meetings"],
        AGREE,
        i={"meetingId": held, "ownerMemberId": member, "description": "Hinnasto uusiksi"},
    )
    future = {**past, "theme": "Vientimessut", "startsAt": (now + timedelta(days=9)).isoformat()}
    await service_api(urls["meetings"], SCHEDULE, i=future)

    async def surveyed() -> bool:
        # invited once feedback's replica has the contact too: the member's PersonRegistered
        # may reach it after the MeetingHeld (the person is invited then, as a late-comer)
        found = await service_api(urls["feedback"], SURVEYS, g=[group])
        return any(
            s["meetingId"] == held and s["invited"] >= 1 for s in found["surveys"]["surveys"]
        )

    await wait_for(
        surveyed, timeout=30, message="the feedback service opened the survey and invited"
    )

    listed = await anna.http.get("/feedback", params={"group": group})
    assert listed.status_code == 200
    row = re.search(rf'href="/feedback/meetings/{held}">([^<]*)</a>', listed.text)
    assert row is not None
    assert "Hinnoittelu" in row.group(1)
    page = await anna.http.get(f"/feedback/meetings/{held}")
    assert page.status_code == 200
    assert "Not yet: results are shown once at least 3 participants have answered" in page.text
    assert "Hinnoittelu" in page.text

    home = await anna.http.get("/")
    assert home.status_code == 200
    assert "Vientimessut" in home.text  # the next meeting, with its host's name
    assert "Kyselypaja Oy" in home.text
    assert "Hinnasto uusiksi" in home.text  # the open follow-up
    assert f'href="/feedback/meetings/{held}"' in home.text  # the survey waiting for answers
    assert "events reach the national hub" in home.text  # the leaf server's link is up

    interviews = f"/members/{member}/interviews"
    person = re.search(
        r'<option value="([^"]+)">Kaija Kysely</option>', (await anna.http.get(interviews)).text
    )
    assert person is not None
    answers = {"person": person.group(1), "on": "1.12.2026", "intends": "YES", "hires": "2",
               "barriers": "FINANCING"}  # fmt: skip
    bad = await anna.post_form(interviews, interviews, **{**answers, "hires": "kaksi"})
    assert bad.status_code == 422
    assert 'value="kaksi"' in bad.text
    recorded = await anna.post_form(interviews, interviews, **answers)
    assert recorded.status_code == 303, recorded.text
    listed = await anna.http.get(interviews)
    assert "Financing" in listed.text
    assert "Kaija Kysely" in listed.text

    bea = await console()
    await bea.sign_in("admin")
    first = await bea.http.get("/feedback")  # no group chosen: the first one by name
    assert first.status_code == 200, first.text
    other_group = await bea.http.get("/feedback", params={"group": console_node.groups[1]})
    assert held not in other_group.text
    anna_other = await anna.http.get("/feedback", params={"group": console_node.groups[1]})
    assert anna_other.status_code == 403
