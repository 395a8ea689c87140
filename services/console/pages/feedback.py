"""Feedback: each meeting's survey (invited, answered, reminders, failed mails), its results
once k-anonymity allows (and saying so until then), and growth-intention interviews.

The surveys come from the feedback service, the meetings' themes and dates from the
meetings service and the names from the groups service; a facilitator sees the surveys of
their groups only.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area

PAGE_SIZE = 25
SURVEYS = """query($groups: [UUID!], $first: Int!, $offset: Int!) {
  surveys(groupIds: $groups, first: $first, offset: $offset) { total hasMore surveys {
    surveyId meetingId groupId heldAt closesAt open invited responses k enoughResponses
    mails { invitationsSent remindersSent waiting failed } } } }"""
MEETINGS = """query($g: UUID!) { meetings(groupId: $g, first: 500) { id theme startsAt
  hostMemberId } }"""
SUMMARY = """query($m: UUID!) { surveySummary(meetingId: $m) { surveyId meetingId groupId open
  closesAt invited responses k enoughResponses note overallMean usefulnessMean
  recommend { mean promoters passives detractors nps } }
  surveyComments(meetingId: $m) { enoughResponses note takeaways changes } }"""
MAILS = """query($s: UUID!) { mailQueue(surveyId: $s, first: 500) { id personId kind status
  attempts lastError createdAt sentAt nextAttemptAt } }"""
MEETING = "query($id: UUID!) { meeting(id: $id) { id theme startsAt heldAt hostMemberId } }"
PERSON = "query($id: UUID!) { person(id: $id) { id name memberId } }"


async def survey_list(request: Request) -> Response:
    groups = await area.visible_groups(request)
    if not groups:
        return area.render(request, "feedback/list.html", groups=[], page=None, group="")
    wanted = area.uuid_or_none(request.query_params.get("group", ""))
    if wanted is not None:
        await area.require_group(request, wanted)
    group = str(wanted or groups[0]["id"])
    raw = request.query_params.get("page", "1")
    page_number = max(1, int(raw)) if raw.isdigit() else 1
    page = (
        await area.gql(
            request,
            "feedback",
            SURVEYS,
            groups=[group],
            first=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
        )
    )["surveys"]
    meetings = await _meetings(request, group)
    return area.render(
        request,
        "feedback/list.html",
        groups=groups,
        group=group,
        page=page,
        page_number=page_number,
        meetings=meetings,
    )


async def _meetings(request: Request, group: str) -> dict[str, dict[str, Any]]:
    found = (await area.gql(request, "meetings", MEETINGS, g=group))["meetings"]
    return {m["id"]: m for m in found}


async def survey_page(request: Request) -> Response:
    meeting_id = area.path_uuid(request, "meeting_id")
    try:
        found = await area.gql(request, "feedback", SUMMARY, m=str(meeting_id))
    except area.Refused:
        return area.not_found(request)
    summary, comments = found["surveySummary"], found["surveyComments"]
    await area.require_group(request, UUID(summary["groupId"]))
    meeting = (await area.gql(request, "meetings", MEETING, id=str(meeting_id)))["meeting"]
    mails = (await area.gql(request, "feedback", MAILS, s=summary["surveyId"]))["mailQueue"]
    failed = [m for m in mails if m["status"] == "failed"]
    names: dict[str, str] = {}
    for mail in failed:
        if mail["personId"] and mail["personId"] not in names:
            person = (await area.gql(request, "groups", PERSON, id=mail["personId"]))["person"]
            names[mail["personId"]] = (person or {}).get("name") or ""
    tally = {
        "invitations": sum(1 for m in mails if m["kind"] == "invitation" and m["status"] == "sent"),
        "reminders": sum(1 for m in mails if m["kind"] == "reminder" and m["status"] == "sent"),
        "waiting": sum(1 for m in mails if m["status"] in ("pending", "retrying")),
    }
    return area.render(
        request,
        "feedback/survey.html",
        summary=summary,
        comments=comments,
        meeting=meeting,
        failed=failed,
        names=names,
        tally=tally,
    )


ROUTES = [
    Route("/feedback", survey_list, methods=["GET"]),
    Route("/feedback/meetings/{meeting_id}", survey_page, methods=["GET"]),
]
