"""Feedback: each meeting's survey (invited, answered, reminders, failed mails) and its
results once k-anonymity allows (saying so until then).

The surveys come from the feedback service, the meetings' themes from the meetings service
and the names of failed mails' addressees from the groups service; a facilitator sees the
surveys of their groups only.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError
from services.console.pages.lookup import aliased, visible_groups
from services.console.pages.names import NAMES
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

PAGE_SIZE = 25
SURVEYS = """query($groups: [UUID!], $first: Int!, $offset: Int!) {
  surveys(groupIds: $groups, first: $first, offset: $offset) { total hasMore surveys {
    surveyId meetingId groupId heldAt closesAt open invited responses k enoughResponses
    mails { invitationsSent remindersSent waiting failed } } } }"""
THEMES = """query($ids: [UUID!]!) { meetings(ids: $ids, first: 500) { id theme } }"""
SUMMARY = """query($m: UUID!) { surveySummary(meetingId: $m) { surveyId meetingId groupId open
  closesAt invited responses k enoughResponses overallMean usefulnessMean
  recommend { mean promoters passives detractors nps } }
  surveyComments(meetingId: $m) { enoughResponses takeaways changes } }"""
MAILS = """query($s: UUID!) { mailQueue(surveyId: $s, first: 500) { personId kind status
  attempts lastError } }"""
MEETING = "query($id: UUID!) { meeting(id: $id) { id theme startsAt } }"
PERSON = "g{i}: person(id: $g{i}) {{ name }}"


async def _names(ctx: Ctx, person_ids: list[str]) -> dict[str, str]:
    """The persons' names (few: the addressees of failed mails), in one request."""
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return {}
    params, fields, variables = aliased(PERSON, ids)
    found = await ctx.backend.graphql("groups", f"query({params}) {{ {fields} }}", variables)
    return {p: (found[f"g{i}"] or {}).get("name") or "" for i, p in enumerate(ids)}


def _only_group(ctx: Ctx) -> str:
    """A facilitator's one group (the list's default), known without asking; else ""."""
    staff = ctx.staff
    return str(next(iter(staff.groups))) if not staff.is_admin and len(staff.groups) == 1 else ""


@routes.get("/feedback")
async def survey_list(ctx: Ctx) -> Response:
    raw = ctx.query("page", "1")
    page_number = max(1, int(raw)) if raw.isdigit() else 1
    offset = (page_number - 1) * PAGE_SIZE
    known = str(ctx.require_group(ctx.query("group"))) if ctx.query("group") else _only_group(ctx)
    if known:  # its surveys asked beside the groups' names
        groups, found = await asyncio.gather(
            visible_groups(ctx),
            ctx.backend.feedback(SURVEYS, groups=[known], first=PAGE_SIZE, offset=offset),
        )
    else:  # the first of the groups by name
        groups = await visible_groups(ctx)
        if groups:
            found = await ctx.backend.feedback(
                SURVEYS, groups=[groups[0]["id"]], first=PAGE_SIZE, offset=offset
            )
    if not groups:
        return ctx.render("feedback/list.html", groups=[], group="", page=None, themes={})
    group, page = known or groups[0]["id"], found["surveys"]
    ids = [s["meetingId"] for s in page["surveys"]]  # the themes of this page's meetings
    meetings = (await ctx.backend.meetings(THEMES, ids=ids))["meetings"] if ids else []
    return ctx.render(
        "feedback/list.html",
        groups=groups,
        group=group,
        page=page,
        page_number=page_number,
        themes={m["id"]: m["theme"] for m in meetings},
    )


@routes.get("/feedback/meetings/{meeting_id}")
async def survey_page(ctx: Ctx) -> Response:
    try:
        meeting_id = str(UUID(ctx.path("meeting_id")))
    except ValueError:
        raise NotFound() from None
    try:  # the meeting asked beside the survey; shown only once the group is checked
        found, found_meeting = await asyncio.gather(
            ctx.backend.feedback(SUMMARY, m=meeting_id),
            ctx.backend.meetings(MEETING, id=meeting_id),
        )
    except BackendError:
        raise NotFound() from None  # no such meeting, or it has no survey (not held)
    summary, comments = found["surveySummary"], found["surveyComments"]
    ctx.require_group(summary["groupId"])
    meeting = found_meeting["meeting"]
    mails = (await ctx.backend.feedback(MAILS, s=summary["surveyId"]))["mailQueue"]
    failed = [m for m in mails if m["status"] == "failed"]
    names = await _names(ctx, [m["personId"] for m in failed if m["personId"]])
    tally: dict[str, Any] = {
        "invitations": sum(m["kind"] == "invitation" and m["status"] == "sent" for m in mails),
        "reminders": sum(m["kind"] == "reminder" and m["status"] == "sent" for m in mails),
        "waiting": sum(m["status"] in ("pending", "retrying") for m in mails),
    }
    return ctx.render(
        "feedback/survey.html",
        summary=summary,
        comments=comments,
        meeting=meeting,
        failed=failed,
        names=names,
        tally=tally,
        **NAMES,
    )
