"""One meeting's page and what a facilitator does with it, in the order of a month: RSVPs,
attendance as a checklist of names, "held" (only once its start has passed: the service
refuses before), attendance corrected after the fact, cancelling, the memo (with what the
national copy will mask, before it is published), follow-ups (the open ones of earlier
meetings are on this meeting's agenda), CoP activities of Wenger's 11 types, initiatives,
and the recording consent (a refusal names who blocks it).

Every action is a POST to ``/meetings/{id}/<action>`` that checks the meeting's group,
asks the meetings service, records the change in the audit trail and comes back to the
page with a confirmation, or shows the page again with the refusal at its form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError
from services.console.i18n import _
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

MEETING = """query($id: UUID!) { meeting(id: $id) { id groupId hostMemberId hostCompanyName
  theme startsAt status heldAt attendeeMemberIds attendanceCount cancelReason recorded
  rsvps { memberId companyName coming } memo { summary publishedAt } } }"""
DETAILS = """query($id: UUID!, $g: UUID!) {
  knownMembers(groupId: $g) { memberId companyName active }
  agenda(meetingId: $id) { id description ownerCompanyName agreedOn dueOn }
  actions(meetingId: $id) { id description ownerCompanyName dueOn status closedOn outcome }
  activities(meetingId: $id) { id type example }
  activityTypes { type name description }
  initiatives(groupId: $g) { id title status startedOn originMeetingId outcome } }"""
GROUP = """query($g: UUID!, $host: UUID!) { group(id: $g) { id name }
  member(id: $host) { address } }"""
PREVIEW = (
    """query($t: String!) { memoMaskPreview(text: $t) { text masked { name kind occurrences } } }"""
)

MUTATIONS = {
    "rsvp": "mutation($i: RecordRsvpInput!) { recordRsvp(input: $i) { id } }",
    "held": "mutation($i: RecordMeetingHeldInput!) { recordMeetingHeld(input: $i) { id } }",
    "attendance": "mutation($i: CorrectAttendanceInput!) { correctAttendance(input: $i) { id } }",
    "cancel": "mutation($i: CancelMeetingInput!) { cancelMeeting(input: $i) { id } }",
    "memo": "mutation($i: PublishMemoInput!) { publishMemo(input: $i) { id } }",
    "action": "mutation($i: AgreeActionInput!) { agreeAction(input: $i) { id } }",
    "close": "mutation($i: CloseActionInput!) { closeAction(input: $i) { id } }",
    "activity": "mutation($i: RecordActivityInput!) { recordActivity(input: $i) { id } }",
    "initiative": "mutation($i: StartInitiativeInput!) { startInitiative(input: $i) { id } }",
    "initiative_status": (
        "mutation($i: UpdateInitiativeInput!) { updateInitiative(input: $i) { id } }"
    ),
    "recorded": "mutation($i: MarkRecordedInput!) { markRecorded(input: $i) { id } }",
}


def _meeting_id(ctx: Ctx) -> str:
    try:
        return str(UUID(ctx.path("meeting_id")))
    except ValueError:
        raise NotFound() from None


async def _meeting(ctx: Ctx, meeting_id: str) -> dict[str, Any]:
    found = (await ctx.backend.meetings(MEETING, id=meeting_id))["meeting"]
    if found is None:
        raise NotFound()
    ctx.require_group(found["groupId"])
    return dict(found)


async def _show(
    ctx: Ctx,
    meeting: dict[str, Any],
    *,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
    preview: dict[str, Any] | None = None,
) -> Response:
    details, place = await asyncio.gather(
        ctx.backend.meetings(DETAILS, id=meeting["id"], g=meeting["groupId"]),
        ctx.backend.groups(GROUP, g=meeting["groupId"], host=meeting["hostMemberId"]),
    )
    members = [m for m in details["knownMembers"] if m["active"]]
    present = set(meeting["attendeeMemberIds"])
    members += [m for m in details["knownMembers"] if not m["active"] and m["memberId"] in present]
    coming = {r["memberId"]: r["coming"] for r in meeting["rsvps"]}
    return ctx.render(
        "meetings/meeting.html",
        status=status,
        meeting=meeting,
        group=place["group"],
        venue=(place["member"] or {}).get("address") or "",
        members=members,
        coming=coming,
        expected={member for member, yes in coming.items() if yes},
        present=present,
        agenda=details["agenda"],
        actions=details["actions"],
        activities=details["activities"],
        activity_types=details["activityTypes"],
        type_names={t["type"]: t["name"] for t in details["activityTypes"]},
        initiatives=[i for i in details["initiatives"] if i["originMeetingId"] == meeting["id"]],
        errors=errors or {},
        values=values or {},
        preview=preview,
    )


@routes.get("/meetings/{meeting_id}")
async def meeting_page(ctx: Ctx) -> Response:
    meeting_id = _meeting_id(ctx)
    return await _show(ctx, await _meeting(ctx, meeting_id))


Form = dict[str, str]
Lists = dict[str, list[str]]
Row = dict[str, Any]
Build = Callable[[Form, Lists, Row], Row]


def _rsvp(form: Form, _lists: Lists, m: Row) -> Row:
    return {"meetingId": m["id"], "memberId": form.get("member", ""), "coming": "coming" in form}


def _attendees(_form: Form, lists: Lists, m: Row) -> Row:
    """Held and corrected alike: the whole list of who came."""
    return {"meetingId": m["id"], "attendeeMemberIds": lists.get("present", [])}


def _cancel(form: Form, _lists: Lists, m: Row) -> Row:
    return {"meetingId": m["id"], "reason": form.get("reason", "").strip()}


def _memo(form: Form, _lists: Lists, m: Row) -> Row:
    return {"meetingId": m["id"], "summary": form.get("summary", "").strip()}


def _action(form: Form, _lists: Lists, m: Row) -> Row:
    given: dict[str, Any] = {
        "meetingId": m["id"],
        "ownerMemberId": form.get("owner", ""),
        "description": form.get("description", "").strip(),
    }
    if form.get("due_on", "").strip():
        given["dueOn"] = form["due_on"].strip()
    return given


def _close(form: Form, _lists: Lists, _m: Row) -> Row:
    return {"actionId": form.get("action", ""), "outcome": form.get("outcome", "").strip()}


def _activity(form: Form, lists: Lists, m: Row) -> Row:
    return {
        "meetingId": m["id"],
        "type": form.get("type", ""),
        "example": form.get("example", "").strip(),
        "memberIds": lists.get("involved", []),
    }


def _initiative(form: Form, lists: Lists, m: Row) -> Row:
    return {
        "meetingId": m["id"],
        "title": form.get("title", "").strip(),
        "memberIds": lists.get("partners", []),
    }


def _initiative_status(form: Form, _lists: Lists, _m: Row) -> Row:
    given: dict[str, Any] = {
        "initiativeId": form.get("initiative", ""),
        "status": form.get("status", ""),
    }
    if form.get("outcome", "").strip():
        given["outcome"] = form["outcome"].strip()
    return given


def _recorded(_form: Form, _lists: Lists, m: Row) -> Row:
    return {"meetingId": m["id"]}


ACTIONS: dict[str, tuple[Build, str]] = {
    "rsvp": (_rsvp, "rsvp.record"),
    "held": (_attendees, "meeting.hold"),
    "attendance": (_attendees, "attendance.correct"),
    "cancel": (_cancel, "meeting.cancel"),
    "memo": (_memo, "memo.publish"),
    "action": (_action, "action.agree"),
    "close": (_close, "action.close"),
    "activity": (_activity, "activity.record"),
    "initiative": (_initiative, "initiative.start"),
    "initiative_status": (_initiative_status, "initiative.update"),
    "recorded": (_recorded, "meeting.recorded"),
}


# The section the page comes back to after an action (its id in meetings/meeting.html): the
# browser starts keyboard navigation there, so the next step is a Tab or two away instead of
# behind the header and every checklist above it. An action whose own section is gone
# afterwards goes to the next step (held: the memo) or to the top ("").
AFTER = {
    "held": "memo",
    "close": "action",
    "initiative_status": "initiative",
    "cancel": "",
    "recorded": "",
}


def _notices() -> dict[str, str]:
    return {
        "rsvp": _("The answer was recorded."),
        "held": _("The meeting was recorded as held; its survey goes out to the attendees."),
        "attendance": _("The attendance was corrected."),
        "cancel": _("The meeting was cancelled."),
        "memo": _("The memo was published."),
        "action": _("The follow-up was agreed."),
        "close": _("The follow-up was closed."),
        "activity": _("The activity was recorded."),
        "initiative": _("The initiative was started."),
        "initiative_status": _("The initiative was updated."),
        "recorded": _("The meeting was marked as recorded."),
    }


@routes.post("/meetings/{meeting_id}/{action}")
async def act(ctx: Ctx) -> Response:
    meeting_id = _meeting_id(ctx)
    action = ctx.path("action")
    if action not in ACTIONS and action != "preview":
        raise NotFound()
    meeting = await _meeting(ctx, meeting_id)
    form = await ctx.form()
    lists = await ctx.form_lists()
    if action == "preview":
        return await _preview(ctx, meeting, form.get("summary", ""))
    build, audit_action = ACTIONS[action]
    try:
        await ctx.backend.meetings(MUTATIONS[action], i=build(form, lists, meeting))
    except BackendError as refused:
        errors = {action: refused.by_field()}
        return await _show(ctx, meeting, status=422, errors=errors, values=form)
    await ctx.audit(audit_action, f"meeting:{meeting_id}", group=meeting["groupId"])
    section = AFTER.get(action, action)
    anchor = f"#{section}" if section else ""
    return ctx.redirect(f"/meetings/{meeting_id}{anchor}", notice=_notices()[action])


async def _preview(ctx: Ctx, meeting: dict[str, Any], summary: str) -> Response:
    """The memo as the nation will read it, with the names the copy masks; nothing saved."""
    if not summary.strip():
        errors = {"memo": {"summary": _("Write the memo first.")}}
        return await _show(ctx, meeting, status=422, errors=errors, values={"summary": summary})
    try:
        found = (await ctx.backend.meetings(PREVIEW, t=summary))["memoMaskPreview"]
    except BackendError as refused:
        errors = {"memo": refused.by_field()}
        return await _show(ctx, meeting, status=422, errors=errors, values={"summary": summary})
    return await _show(ctx, meeting, values={"summary": summary}, preview=found)
