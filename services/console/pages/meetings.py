"""Meetings of a core group: the list and the month view, and scheduling a meeting with the
fair rotation's suggested host (by company name and why), the theme and the time in
Europe/Helsinki; the venue is the host's address.

The meetings come from the meetings service; the hosts' addresses from the groups service.
A facilitator sees the meetings of their groups only (``require_group`` on every route).
"""

from __future__ import annotations

import asyncio
import calendar
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from starlette.responses import Response

from services.console.backend import BackendError, Problem
from services.console.i18n import _
from services.console.pages.calendar_links import calendar_url
from services.console.pages.lookup import at_field, visible_groups
from services.console.web import Ctx, NotFound, Routes
from shared.errors.dates import InvalidDateTime
from shared.i18n.formats import HELSINKI, FormatError, format_date, parse_local_datetime

routes = Routes()

GROUP = "query($g: UUID!) { group(id: $g) { id name } }"
MEETINGS = """query($g: UUID!, $first: Int!, $offset: Int!) {
  meetings(groupId: $g, first: $first, offset: $offset) {
    id theme startsAt status hostCompanyName attendanceCount recorded memo { publishedAt } } }"""
MONTH = """query($g: UUID!, $start: DateTime!, $end: DateTime!) {
  meetings(groupId: $g, startsFrom: $start, startsBefore: $end, first: 500) {
    id theme startsAt status hostCompanyName attendanceCount recorded memo { publishedAt } } }"""
SUGGEST = """query($g: UUID!, $on: Date!) { suggestNextHost(groupId: $g, on: $on) {
  memberId companyName lastHostedOn timesHosted reason } }"""
GROUP_ADDRESSES = """query($g: UUID!) { group(id: $g) { id name }
  members(groupId: $g, activeOnly: true) { id address } }"""
SCHEDULE = """mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) {
  id warnings { code message } } }"""
PAGE_SIZE = 50


async def _group(ctx: Ctx, group_id: UUID) -> dict[str, Any]:
    found = (await ctx.backend.groups(GROUP, g=str(group_id)))["group"]
    if found is None:
        raise NotFound()
    return dict(found)


@routes.get("/meetings")
async def meetings_home(ctx: Ctx) -> Response:
    """The groups one may open the meetings of; with one group, its meetings at once."""
    groups = await visible_groups(ctx)
    if len(groups) == 1:
        return ctx.redirect(f"/groups/{groups[0]['id']}/meetings")
    return ctx.render("meetings/groups.html", groups=groups)


@routes.get("/groups/{group_id}/meetings")
async def meeting_list(ctx: Ctx) -> Response:
    group_id = ctx.require_group(ctx.path("group_id"))
    raw = ctx.query("page", "1")
    page_number = max(1, int(raw)) if raw.isdigit() else 1
    group, found = await asyncio.gather(
        _group(ctx, group_id),
        ctx.backend.meetings(
            MEETINGS, g=str(group_id), first=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE
        ),
    )
    meetings = found["meetings"]
    return ctx.render(
        "meetings/list.html",
        group=group,
        meetings=meetings[:PAGE_SIZE],
        has_more=len(meetings) > PAGE_SIZE,
        page_number=page_number,
        calendar_link=calendar_url(ctx, "group", group_id),
    )


def _month_of(text: str) -> date:
    """``2026-12`` as its first day; this month in Helsinki for anything else."""
    try:
        year, month = (int(part) for part in text.split("-", 1))
        return date(year, month, 1)
    except ValueError:
        today = datetime.now(HELSINKI).date()
        return today.replace(day=1)


@routes.get("/groups/{group_id}/meetings/month")
async def month_view(ctx: Ctx) -> Response:
    """A calendar table of one month (Monday first), the meetings on their Helsinki days."""
    group_id = ctx.require_group(ctx.path("group_id"))
    first = _month_of(ctx.query("month"))
    previous = (first - timedelta(days=1)).replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    group, found = await asyncio.gather(  # the month's meetings only, not the group's years
        _group(ctx, group_id),
        ctx.backend.meetings(
            MONTH,
            g=str(group_id),
            start=datetime.combine(first, time(0), HELSINKI).isoformat(),
            end=datetime.combine(following, time(0), HELSINKI).isoformat(),
        ),
    )
    by_day: dict[int, list[dict[str, Any]]] = {}
    for meeting in found["meetings"]:
        starts = datetime.fromisoformat(meeting["startsAt"]).astimezone(HELSINKI)
        by_day.setdefault(starts.day, []).append(meeting)
    weeks = calendar.Calendar(firstweekday=0).monthdayscalendar(first.year, first.month)
    return ctx.render(
        "meetings/month.html",
        group=group,
        weeks=weeks,
        by_day=by_day,
        month=first,
        month_name=format_date(first, style="LLLL y"),
        previous=f"{previous:%Y-%m}",
        following=f"{following:%Y-%m}",
    )


def _read_start(values: dict[str, str]) -> tuple[str | None, Problem | None]:
    """The day and time as the user writes them (7.12.2026, 18.00) as ISO with the offset."""
    try:
        moment = parse_local_datetime(values["day"], values["time"])
    except FormatError:
        error = InvalidDateTime(f"{values['day']} {values['time']}", field="day")
        return None, Problem(error.code, error.render(), "day", error.json_params())
    return moment.isoformat(), None


@routes.form("/groups/{group_id}/meetings/new")
async def schedule(ctx: Ctx) -> Response:
    group_id = ctx.require_group(ctx.path("group_id"))
    today = datetime.now(HELSINKI).date()
    found, suggested = await asyncio.gather(  # one request to each service
        ctx.backend.groups(GROUP_ADDRESSES, g=str(group_id)),
        ctx.backend.meetings(SUGGEST, g=str(group_id), on=today.isoformat()),
    )
    if found["group"] is None:
        raise NotFound()
    group, suggestions = found["group"], suggested["suggestNextHost"]
    addresses = {m["id"]: m["address"] or "" for m in found["members"]}
    values = {
        "host": suggestions[0]["memberId"] if suggestions else "",
        "theme": "",
        "day": "",
        "time": "18.00",
    }
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        form = await ctx.form()
        values = {k: form.get(k, "").strip() for k in values}
        problems: list[Problem] = []
        if not values["host"]:
            problems.append(Problem("REQUIRED", _("Choose the host of the meeting."), "host"))
        if not values["theme"]:
            problems.append(Problem("REQUIRED", _("Give the meeting's theme."), "theme"))
        starts_at, problem = _read_start(values)
        if problem is not None:
            problems.append(problem)
        if not problems:
            given = {
                "groupId": str(group_id),
                "hostMemberId": values["host"],
                "theme": values["theme"],
                "startsAt": starts_at,
            }
            try:
                done = (await ctx.backend.meetings(SCHEDULE, i=given))["scheduleMeeting"]
            except BackendError as refused:
                rename = {"host_member_id": "host", "starts_at": "day"}
                problems = [at_field(p, rename) for p in refused.problems]
            else:
                await ctx.audit("meeting.schedule", f"meeting:{done['id']}", group=str(group_id))
                notice = _("The meeting was scheduled.")
                if done["warnings"]:
                    notice += " " + " ".join(w["message"] for w in done["warnings"])
                return ctx.redirect(f"/meetings/{done['id']}", notice=notice)
        errors = {p.field: p.message for p in problems}
    return ctx.render(
        "meetings/schedule.html",
        status=422 if errors else 200,
        group=group,
        suggestions=suggestions,
        addresses=addresses,
        values=values,
        errors=errors,
    )
