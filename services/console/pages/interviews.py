"""Growth-intention interviews of a member's entrepreneurs: the list (their intentions over
time) and recording one."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.lookup import at_field, read_date, today_shown
from services.console.pages.member_page import load_member
from services.console.pages.names import NAMES
from services.console.web import Ctx, NotFound, Routes

routes = Routes()

INTERVIEWS = """query($m: UUID!) { interviews(memberId: $m) { id personId interviewedOn
  intendsToGrow plannedHires barriers barrierOther } }"""
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
RENAMED = {
    "interviewed_on": "on",
    "person_id": "person",
    "intends_to_grow": "intends",
    "planned_hires": "hires",
    "barrier_other": "other",
}


async def _show(
    ctx: Ctx,
    member: dict[str, Any],
    values: dict[str, Any],
    problems: list[Problem],
    found: list[dict[str, Any]] | None = None,
) -> Response:
    if found is None:
        found = (await ctx.backend.feedback(INTERVIEWS, m=member["id"]))["interviews"]
    return ctx.render(
        "feedback/interviews.html",
        status=422 if problems else 200,
        member=member,
        interviews=list(reversed(found)),
        names={p["id"]: p["name"] for p in member["contacts"]},
        values=values,
        problems=problems,
        errors={p.field: p.message for p in problems},
        intentions=INTENTIONS,
        barriers=BARRIERS,
        **NAMES,
    )


@routes.form("/members/{member_id}/interviews")
async def interviews(ctx: Ctx) -> Response:
    if ctx.request.method == "GET":  # the interviews asked beside the member (its group
        member_id = ctx.path("member_id")  # is checked before anything is shown)
        try:
            UUID(member_id)
        except ValueError:
            raise NotFound() from None
        member, found = await asyncio.gather(
            load_member(ctx, member_id), ctx.backend.feedback(INTERVIEWS, m=member_id)
        )
        empty = {"person": "", "on": today_shown(), "intends": "", "hires": "0", "other": ""}
        return await _show(ctx, member, {**empty, "barriers": []}, [], found["interviews"])
    member = await load_member(ctx, ctx.path("member_id"))
    data = await ctx.form()
    values: dict[str, Any] = {
        k: data.get(k, "").strip() for k in ("person", "on", "intends", "hires", "other")
    }
    values["barriers"] = [b for b in (await ctx.form_lists()).get("barriers", []) if b in BARRIERS]
    problems: list[Problem] = []
    if values["person"] not in {p["id"] for p in member["contacts"] if not p["erased"]}:
        problems.append(Problem("REQUIRED", _("Choose the entrepreneur interviewed."), "person"))
    on, problem = read_date(values["on"], "on")
    if problem is not None:
        problems.append(problem)
    if values["intends"] not in INTENTIONS:
        message = _("Choose whether they intend to grow the business.")
        problems.append(Problem("REQUIRED", message, "intends"))
    hires = values["hires"].replace(" ", "") or "0"
    if not hires.isdigit():
        message = _("Give the planned hires as a whole number.")
        problems.append(Problem("NOT_A_NUMBER", message, "hires"))
    if problems:
        return await _show(ctx, member, values, problems)
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
        await ctx.backend.feedback(RECORD, i=given)
    except BackendError as refused:
        return await _show(ctx, member, values, [at_field(p, RENAMED) for p in refused.problems])
    await ctx.audit("interview.record", f"member:{member['id']}", group=member["groupId"])
    return ctx.redirect(
        f"/members/{member['id']}/interviews", notice=_("The interview was recorded.")
    )
