"""What the home page shows a signed-in user: their groups, the next meetings, open
follow-ups, surveys waiting for answers, and the node's link to the hub (the meetings
service names the hosts and owners).

Each panel asks the service that owns the data; a service that does not answer empties its
panel with a note instead of failing the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.console.backend import BackendUnavailable
from services.console.node_link import NodeLink, node_link
from services.console.web import Ctx

NEXT_MEETINGS = 8
PLANNED = """query($g: UUID!) { meetings(groupId: $g, status: PLANNED, first: 50) { id groupId
  theme startsAt hostCompanyName } }"""
LAST_HELD = """query($g: UUID!) { meetings(groupId: $g, status: HELD, first: 1) { id startsAt } }"""
OPEN_ACTIONS = """query($m: UUID!) {
  actions(meetingId: $m) { id ownerCompanyName description agreedOn dueOn status }
  agenda(meetingId: $m) { id ownerCompanyName description agreedOn dueOn status } }"""
WAITING = """query($groups: [UUID!]) { surveys(groupIds: $groups, openOnly: true, first: 50) {
  total surveys { meetingId groupId heldAt closesAt invited responses k
    mails { failed } } } }"""


@dataclass
class Home:
    groups: list[dict[str, Any]]
    meetings: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    link: NodeLink | None = None
    away: list[str] = field(default_factory=list)  # panels whose service did not answer


async def _group_panels(ctx: Ctx, group: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The group's planned meetings still ahead, and its open follow-ups (agreed in its
    last held meeting or carried to it)."""
    now = datetime.now(UTC)
    planned, held = await asyncio.gather(
        ctx.backend.meetings(PLANNED, g=group["id"]),
        ctx.backend.meetings(LAST_HELD, g=group["id"]),
    )
    ahead = [m for m in planned["meetings"] if datetime.fromisoformat(m["startsAt"]) >= now]
    if not held["meetings"]:
        return ahead, []
    found = await ctx.backend.meetings(OPEN_ACTIONS, m=held["meetings"][0]["id"])
    actions = {a["id"]: a for a in found["agenda"] + found["actions"] if a["status"] == "OPEN"}
    return ahead, list(actions.values())


async def _meetings(ctx: Ctx, home: Home) -> None:
    try:
        found = await asyncio.gather(*(_group_panels(ctx, g) for g in home.groups))
    except BackendUnavailable:
        home.away.append("meetings")
        return
    for ahead, actions in found:
        home.meetings += ahead
        home.actions += actions
    home.meetings.sort(key=lambda m: m["startsAt"])
    home.meetings = home.meetings[:NEXT_MEETINGS]
    home.actions.sort(key=lambda a: (a["dueOn"] or "9999", a["agreedOn"]))


async def _surveys(ctx: Ctx, home: Home) -> None:
    if not home.groups:
        return
    try:
        ids = [g["id"] for g in home.groups]
        found = (await ctx.backend.feedback(WAITING, groups=ids))["surveys"]
    except BackendUnavailable:
        home.away.append("feedback")
        return
    home.surveys = [s for s in found["surveys"] if s["responses"] < s["invited"]]


async def home_panels(ctx: Ctx, groups: list[dict[str, Any]]) -> Home:
    home = Home(groups=groups)
    backend = ctx.backend
    health = {name: f"{url}/healthz" for name, url in backend.urls.items()}
    link, *_ = await asyncio.gather(
        node_link(backend.http, ctx.console.settings.leaf_monitor_url, health),
        _meetings(ctx, home),
        _surveys(ctx, home),
    )
    home.link = link
    return home
