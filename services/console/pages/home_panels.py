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
from services.console.node_link import NodeLink
from services.console.pages.lookup import aliased
from services.console.web import Ctx

NEXT_MEETINGS = 8
PLANNED = """g{i}: meetings(groupId: $g{i}, status: PLANNED, startsFrom: $now, first: 50) {{
  id groupId theme startsAt hostCompanyName }}"""
OPEN_ACTIONS = """openActions(groupIds: $groups) {
  id ownerCompanyName description agreedOn dueOn status }"""
WAITING = """query($groups: [UUID!]) { surveys(groupIds: $groups, openOnly: true, first: 50) {
  total surveys { meetingId groupId heldAt closesAt invited responses k
    mails { failed } } } }"""


@dataclass
class Home:
    group_ids: list[str]
    meetings: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    link: NodeLink | None = None
    away: list[str] = field(default_factory=list)  # panels whose service did not answer


async def _meetings(ctx: Ctx, home: Home) -> None:
    """The groups' planned meetings still ahead and their open follow-ups, in one request."""
    ids = home.group_ids
    if not ids:
        return
    params, fields, variables = aliased(PLANNED, ids)
    query = f"query({params}, $now: DateTime!, $groups: [UUID!]!) {{ {fields} {OPEN_ACTIONS} }}"
    try:
        found = await ctx.backend.graphql(
            "meetings", query, {**variables, "now": datetime.now(UTC).isoformat(), "groups": ids}
        )
    except BackendUnavailable:
        home.away.append("meetings")
        return
    ahead = [m for i in range(len(ids)) for m in found[f"g{i}"]]
    home.meetings = sorted(ahead, key=lambda m: m["startsAt"])[:NEXT_MEETINGS]
    home.actions = sorted(found["openActions"], key=lambda a: (a["dueOn"] or "9999", a["agreedOn"]))


async def _surveys(ctx: Ctx, home: Home) -> None:
    if not home.group_ids:
        return
    try:
        found = (await ctx.backend.feedback(WAITING, groups=home.group_ids))["surveys"]
    except BackendUnavailable:
        home.away.append("feedback")
        return
    home.surveys = [s for s in found["surveys"] if s["responses"] < s["invited"]]


async def home_panels(ctx: Ctx, group_ids: list[str]) -> Home:
    """The panels of the groups ``group_ids`` (ids that are no group show nothing)."""
    home = Home(group_ids=group_ids)
    backend = ctx.backend
    health = {name: f"{url}/healthz" for name, url in backend.urls.items()}
    link, *_ = await asyncio.gather(
        ctx.console.link.link(backend.http, ctx.console.settings.leaf_monitor_url, health),
        _meetings(ctx, home),
        _surveys(ctx, home),
    )
    home.link = link
    return home
