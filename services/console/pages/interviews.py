"""Growth-intention interviews of a member's entrepreneurs: the list (their intentions over
time) and recording one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.console.pages import area
from services.console.pages.problems import Problem
from services.console.texts import _
from shared.errors.dates import InvalidDate
from shared.i18n.formats import FormatError, parse_date

MEMBER = """query($id: UUID!) { member(id: $id) { id groupId companyName
  contacts { id name erased } } }"""
INTERVIEWS = """query($m: UUID!) { interviews(memberId: $m) { id personId interviewedOn
  intendsToGrow plannedHires barriers barrierOther recordedAt } }"""
RECORD = "mutation($i: RecordInterviewInput!) { recordInterview(input: $i) { id } }"
INTENTIONS = ("YES", "NO", "UNSURE")
BARRIERS = (
    "FINANCING",
    "FINDING_EMPLOYEES",
    "TIME",
    "MARKET_DEMAND",
    "COMPETENCE",
    "REGULATION",
    "OWNER_WELLBEING",
    "LOCATION",
    "OTHER",
)
RENAMED = {"interviewed_on": "on", "person_id": "person", "intends_to_grow": "intends"}


async def _member(request: Request, *, changing: bool) -> dict[str, Any] | None:
    member_id = area.path_uuid(request, "member_id")
    found = (await area.gql(request, "groups", MEMBER, id=str(member_id)))["member"]
    if found is None:
        return None
    await area.require_group(request, UUID(found["groupId"]), changing=changing)
    return dict(found)


async def _show(
    request: Request,
    member: dict[str, Any],
    values: dict[str, Any] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    found = (await area.gql(request, "feedback", INTERVIEWS, m=member["id"]))["interviews"]
    names = {p["id"]: p["name"] for p in member["contacts"]}
    return area.render(
        request,
        "feedback/interviews.html",
        status=status,
        member=member,
        interviews=list(reversed(found)),
        names=names,
        values=values or {"on": area.today_shown(), "barriers": []},
        problems=problems or [],
        intentions=INTENTIONS,
        barriers=BARRIERS,
    )


async def interview_list(request: Request) -> Response:
    member = await _member(request, changing=False)
    if member is None:
        return area.not_found(request)
    return await _show(request, member)


async def record(request: Request) -> Response:
    member = await _member(request, changing=True)
    if member is None:
        return area.not_found(request)
    data = await request.form()
    values: dict[str, Any] = {
        k: str(data.get(k, "")).strip() for k in ("person", "on", "intends", "hires", "other")
    }
    values["barriers"] = [b for b in data.getlist("barriers") if b in BARRIERS]
    problems: list[Problem] = []
    persons = {p["id"] for p in member["contacts"] if not p["erased"]}
    if values["person"] not in persons:
        problems.append(Problem("REQUIRED", "person", _("Choose the entrepreneur interviewed.")))
    try:
        on = parse_date(values["on"]).isoformat()
    except FormatError:
        error = InvalidDate(values["on"], field="on")
        problems.append(Problem(error.code, "on", error.render()))
    if values["intends"] not in INTENTIONS:
        problems.append(
            Problem("REQUIRED", "intends", _("Choose whether they intend to grow the business."))
        )
    hires = values["hires"].replace(" ", "") or "0"
    if not hires.isdigit():
        problems.append(
            Problem("NOT_A_NUMBER", "hires", _("Give the planned hires as a whole number."))
        )
    if problems:
        return await _show(request, member, values, problems, 422)
    given = {
        "memberId": member["id"],
        "personId": values["person"],
        "interviewedOn": on,
        "intendsToGrow": values["intends"],
        "plannedHires": int(hires),
        "barriers": values["barriers"],
        "barrierOther": values["other"],
    }
    try:
        await area.gql(request, "feedback", RECORD, i=given)
    except area.Refused as refused:
        problems = [p.at(RENAMED) for p in refused.problems]
        return await _show(request, member, values, problems, 422)
    await area.audit(request, "interview.record", member["id"], member["companyName"])
    notice = _("The interview was recorded.")
    return area.redirect(request, f"/members/{member['id']}/interviews", notice)


ROUTES = [
    Route("/members/{member_id}/interviews", interview_list, methods=["GET"]),
    Route("/members/{member_id}/interviews", record, methods=["POST"]),
]
