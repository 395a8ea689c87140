"""What the home page shows a signed-in user: their groups, the next meetings, open
follow-ups, surveys waiting for answers, and the node's link to the hub.

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
  theme startsAt hostMemberId } }"""
LAST_HELD = """query($g: UUID!) { meetings(groupId: $g, status: HELD, first: 1) { id startsAt } }"""
OPEN_ACTIONS = """query($m: UUID!) {
  actions(meetingId: $m) { id meetingId ownerMemberId description agreedOn dueOn status }
  agenda(meetingId: $m) { id meetingId ownerMemberId description agreedOn dueOn status } }"""
WAITING = """query($groups: [UUID!]) { surveys(groupIds: $groups, openOnly: true, first: 50) {
  total surveys { meetingId groupId heldAt closesAt invited responses k
    mails { failed } } } }"""
COMPANIES = """query($g: UUID!) { group(id: $g) { members { id companyName } } }"""


@dataclass
class Home:
    groups: list[dict[str, Any]]
    meetings: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    link: NodeLink | None = None
    away: list[str] = field(default_factory=list)  # panels whose service did not answer
    companies: dict[str, str] = field(default_factory=dict)


async def _group_panels(ctx: Ctx, home: Home, group: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    planned = (await ctx.backend.meetings(PLANNED, g=group["id"]))["meetings"]
    home.meetings += [m for m in planned if datetime.fromisoformat(m["startsAt"]) >= now]
    held = (await ctx.backend.meetings(LAST_HELD, g=group["id"]))["meetings"]
    if held:
        found = await ctx.backend.meetings(OPEN_ACTIONS, m=held[0]["id"])
        seen = {a["id"] for a in home.actions}
        for action in found["agenda"] + found["actions"]:
            if action["status"] == "OPEN" and action["id"] not in seen:
                home.actions.append(action)
                seen.add(action["id"])


async def _names(ctx: Ctx, home: Home) -> None:
    for group in home.groups:
        found = (await ctx.backend.groups(COMPANIES, g=group["id"]))["group"]
        for member in (found or {}).get("members", []):
            home.companies[member["id"]] = member["companyName"]


async def home_panels(ctx: Ctx, groups: list[dict[str, Any]]) -> Home:
    home = Home(groups=groups)
    ids = [g["id"] for g in groups]
    try:
        for group in groups:
            await _group_panels(ctx, home, group)
    except BackendUnavailable:
        home.away.append("meetings")
    home.meetings.sort(key=lambda m: m["startsAt"])
    home.meetings = home.meetings[:NEXT_MEETINGS]
    home.actions.sort(key=lambda a: (a["dueOn"] or "9999", a["agreedOn"]))
    try:
        if ids:
            found = (await ctx.backend.feedback(WAITING, groups=ids))["surveys"]
            home.surveys = [s for s in found["surveys"] if s["responses"] < s["invited"]]
    except BackendUnavailable:
        home.away.append("feedback")
    backend = ctx.backend
    health = {name: f"{url}/healthz" for name, url in backend.urls.items()}
    home.link, _ = await asyncio.gather(
        node_link(backend.http, ctx.console.settings.leaf_monitor_url, health),
        _names(ctx, home),
    )
    return home
