"""A regional node at the demo's data volume, for ``bench/console.py`` and
``docs/screenshots.py``: hub, gateway and one region (its leaf server, groups, meetings,
feedback and the console, each a process on SQLite, as in ``mgn demo``), loaded through the
regional APIs with one core group of ``meetings`` monthly meetings (attendance, RSVPs,
memos, follow-ups, CoP activities, recordings, interviews, survey answers) and more groups
until the region has ``members`` member companies; then an admin and a facilitator of the
big group in the console.

Loading takes 10-15 minutes on a loaded machine: what was loaded is noted in
``WORKDIR/bench-node.json`` (the group's id and the two sign-ins), and a later start on the
same work directory (after the earlier node stopped) reuses the loaded databases instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from deploy.console_users import demo_staff
from deploy.federation import CONSOLE, Federation, RegionNode, database_url_for
from deploy.loader import RegionEndpoints, load_region
from deploy.natsserver import free_port
from deploy.sample_data import HELSINKI, RegionPlan, add_member_groups, plan_region

REGION = "oulu"
LOADED = "bench-node.json"  # what a work directory's databases hold (see the module)
Say = Callable[[str], None]


@dataclass
class ConsoleNode:
    federation: Federation
    node: RegionNode
    group_id: str  # the core group with the meetings
    admin: tuple[str, str]  # username, password
    facilitator: tuple[str, str]  # of the big group

    @property
    def url(self) -> str:
        return self.node.console_local_url

    def stop(self) -> None:
        self.federation.stop()

    def pids(self) -> dict[str, int]:
        """The pid of the console and of each regional service now (they change when
        restarted)."""
        processes = {CONSOLE: self.node.console, **self.node.services}
        return {name: p.pid for name, p in processes.items() if p.pid is not None}

    async def api(self, service: str, query: str, **variables: Any) -> dict[str, Any]:
        """``data`` of a query to one of the node's services (with the console's credential)."""
        async with httpx.AsyncClient(timeout=30, headers=self.node.api_headers()) as http:
            body = (
                await http.post(
                    self.node.graphql_url(service), json={"query": query, "variables": variables}
                )
            ).json()
        if body.get("errors"):
            raise RuntimeError(f"{service}: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


def plan(members: int, meetings: int, today: date) -> RegionPlan:
    """One group with at least ``meetings`` meetings (history back as far as needed), and
    groups of members only up to ``members`` in the region."""
    for first_year in range(today.year - 1, 1999, -1):
        planned = plan_region(
            REGION, groups=1, first_year=first_year, last_year=today.year, today=today
        )
        if len(planned.groups[0].meetings) >= meetings:
            break
    add_member_groups(planned, members=members)
    return planned


async def _load(region_plan: RegionPlan, endpoints: RegionEndpoints, parts: int = 4) -> None:
    """The big group, and the other groups in ``parts - 1`` shares, loaded side by side:
    the loader sends one write at a time, so on a loaded machine one stream of writes
    leaves the services idle between them."""
    big, *rest = region_plan.groups
    shares = [rest[i :: parts - 1] for i in range(parts - 1)]
    plans = [replace(region_plan, groups=[big])]
    plans += [replace(region_plan, groups=share) for share in shares if share]
    await asyncio.gather(*(load_region(p, endpoints) for p in plans))


def restart(node: ConsoleNode, names: list[str]) -> None:
    """Stop and start the node's console or services (e.g. after changing their code)."""
    for name in names:
        process = node.node.console if name == CONSOLE else node.node.services[name]
        process.stop()
        process.spawn()
        process.wait_healthy()


def start_console_node(
    workdir: Path, *, members: int = 300, meetings: int = 120, say: Say = print
) -> ConsoleNode:
    """Start and load the node (see the module); the caller stops it."""
    federation = Federation(workdir)
    try:
        started = time.monotonic()
        federation.start_hub()
        federation.start_gateway(free_port())
        node = federation.start_region(REGION)
        say(f"node up in {time.monotonic() - started:.1f}s; console {node.console_local_url}")
        loaded = _loaded(workdir, members, meetings)
        if loaded is not None:
            say(f"reusing the node loaded in {workdir} ({LOADED})")
            admin, facilitator = loaded["admin"], loaded["facilitator"]
            return ConsoleNode(
                federation,
                node,
                loaded["group_id"],
                (admin[0], admin[1]),
                (facilitator[0], facilitator[1]),
            )
        today = datetime.now(HELSINKI).date()
        region_plan = plan(members, meetings, today)
        big = region_plan.groups[0]
        say(
            f"loading {region_plan.writes} writes: {len(region_plan.groups)} groups, "
            f"{sum(len(g.members) for g in region_plan.groups)} members, "
            f"{len(big.meetings)} meetings in {big.name!r} ..."
        )
        started = time.monotonic()
        endpoints = RegionEndpoints(
            groups_url=node.graphql_url("groups"),
            meetings_url=node.graphql_url("meetings"),
            feedback_url=node.graphql_url("feedback"),
            mail_dir=workdir / REGION / "mail",
            headers=node.api_headers(),
        )
        asyncio.run(_load(region_plan, endpoints))
        say(f"loaded in {time.monotonic() - started:.1f}s")
        console = ConsoleNode(federation, node, "", ("", ""), ("", ""))
        groups = asyncio.run(console.api("groups", "{ groups { id name } }"))["groups"]
        console.group_id = next(g["id"] for g in groups if g["name"] == big.name)
        url = database_url_for(None, workdir / REGION, CONSOLE, REGION)
        accounts = asyncio.run(demo_staff(url, REGION, [(console.group_id, big.name)]))
        by_role = {role: (username, password) for username, password, role in accounts}
        console.admin, console.facilitator = by_role["admin"], by_role["facilitator"]
        note = {
            "members": members,
            "meetings": meetings,
            "group_id": console.group_id,
            "admin": console.admin,
            "facilitator": console.facilitator,
        }
        (workdir / LOADED).write_text(json.dumps(note), encoding="utf-8")
        return console
    except BaseException:
        federation.stop()
        raise


def _loaded(workdir: Path, members: int, meetings: int) -> dict[str, Any] | None:
    """What an earlier run loaded into ``workdir``, if it was this volume."""
    path = workdir / LOADED
    if not path.exists():
        return None
    note: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if (note.get("members"), note.get("meetings")) != (members, meetings):
        raise SystemExit(
            f"{workdir} holds a node of {note.get('members')} members and "
            f"{note.get('meetings')} meetings; use another --workdir for {members} and {meetings}"
        )
    return note
