"""``mgn demo``: a whole federation on this machine, with sample data flowing as events."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from deploy.console_users import demo_staff
from deploy.federation import Federation, database_url_for
from deploy.loader import RegionEndpoints, load_region
from deploy.nodes import DEFAULT_CONSOLE_PORT
from deploy.processes import stop_on_signals
from deploy.sample_data import HELSINKI, plan_region

TRY_QUERY = """{
  regions { id displayName linkActive eventsBehind lastEventAt meetingCount }
  meetings(region: "oulu", first: 5) {
    totalCount
    edges { node { startsAt theme status attendanceCount host { id } } }
  }
}"""

Say = Callable[[str], None]


def run_demo(
    *,
    workdir: Path,
    regions: list[str],
    port: int,
    groups_per_region: int,
    console_port: int = DEFAULT_CONSOLE_PORT,
    first_year: int,
    last_year: int,
    load: bool = True,
    wait: bool = True,
    say: Say = print,
) -> int:
    """Start, load, report; then block until Ctrl-C / SIGTERM. Returns an exit code.

    The gateway listens on ``port``; the regions' consoles on ``console_port``,
    ``console_port`` + 1, ... in the order of ``regions`` (fixed, like ``mgn region up``'s
    8100: the survey links mailed by one run still work after a restart)."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    # the consoles' accounts are made here after their services migrated: alembic's
    # "Context impl SQLiteImpl." lines would only break up the list of passwords
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    consoles = {region: console_port + i for i, region in enumerate(regions)}
    if problem := _ports_problem(port, consoles):
        say(f"error: {problem}")
        return 2
    if workdir.exists():
        shutil.rmtree(workdir)  # the demo starts from a clean slate every time
    federation = Federation(workdir)
    stop_on_signals()
    started = time.monotonic()
    try:
        say(f"Starting the hub NATS server and the gateway (data and logs in {workdir}) ...")
        federation.start_hub()
        federation.start_gateway(port)
        for region in regions:
            node = federation.start_region(region, console_port=consoles[region])
            say(
                f"  region {region}: console {node.console_url}, leaf NATS "
                f"{node.leaf.client_url}, services on 127.0.0.1 behind it"
            )
        say(f"Federation up in {time.monotonic() - started:.1f}s.")
        if load:
            plans = [
                plan_region(
                    r,
                    groups=groups_per_region,
                    first_year=first_year,
                    last_year=last_year,
                    today=datetime.now(HELSINKI).date(),  # a recent meeting: surveys open
                )
                for r in regions
            ]
            expected = asyncio.run(_load(federation, plans, say))
            asyncio.run(_wait_national(port, expected, say))
        graphql = f"http://127.0.0.1:{port}/graphql"
        say("")
        say("Regional consoles (sign in with these; passwords are shown only now):")
        for region, node in federation.regions.items():
            accounts = asyncio.run(_demo_staff(federation, region))
            say(f"  {region}: {node.console_url}/")
            for username, password, role in accounts:
                say(f"    {role:<12} {username:<24} password {password}")
        say(f"National GraphQL API (GraphiQL in a browser): {graphql}")
        say("Try this query:")
        say(TRY_QUERY)
        say(
            f"Exports: http://127.0.0.1:{port}/exports. Tokens are off in the demo; to try a "
            f"role: mgn token create --role agency --region {(regions or ['oulu'])[0]} "
            f"--db sqlite:///{federation.hub_dir / 'gateway.db'}"
        )
        say(
            "Regional APIs: <console>/api/groups/graphql (meetings, feedback) for admins "
            "and API tokens. Press Ctrl-C to stop everything."
        )
        if wait:
            federation.sup.watch(say)  # restarts a process that dies; raises if one keeps dying
        return 0
    except KeyboardInterrupt:
        say("")
        return 0
    except Exception as exc:
        say(f"error: {exc}")
        return 1
    finally:
        say("Stopping every process the demo started ...")
        federation.stop()
        say("Stopped.")


async def _load(federation: Federation, plans: list[Any], say: Say) -> dict[str, int]:
    totals = {plan.region: plan.writes for plan in plans}
    say(f"Loading sample data through the regional APIs: {sum(totals.values())} writes ...")
    last_report = [0.0]

    def progress(region: str, done: int) -> None:
        now = time.monotonic()
        if now - last_report[0] > 2:
            last_report[0] = now
            say(f"  {region}: {done}/{totals[region]} writes")

    started = time.monotonic()
    counts = await asyncio.gather(
        *(
            load_region(
                plan,
                RegionEndpoints(
                    groups_url=federation.regions[plan.region].graphql_url("groups"),
                    meetings_url=federation.regions[plan.region].graphql_url("meetings"),
                    feedback_url=federation.regions[plan.region].graphql_url("feedback"),
                    mail_dir=federation.workdir / plan.region / "mail",
                    headers=federation.regions[plan.region].api_headers(),
                ),
                progress,
                report=lambda line: say(f"  {line}"),
            )
            for plan in plans
        )
    )
    elapsed = time.monotonic() - started
    say(f"Loaded {sum(counts)} writes in {elapsed:.1f}s ({sum(counts) / elapsed:.0f} writes/s).")
    return {plan.region: plan.events for plan in plans}  # what the nation must apply


async def _demo_staff(federation: Federation, region: str) -> list[tuple[str, str, str]]:
    node = federation.regions[region]
    async with httpx.AsyncClient(timeout=10, headers=node.api_headers()) as http:
        body = (
            await http.post(node.graphql_url("groups"), json={"query": "{ groups { id name } }"})
        ).json()
    groups = [(g["id"], g["name"]) for g in (body.get("data") or {}).get("groups", [])]
    url = database_url_for(None, federation.workdir / region, "console", region)
    return await demo_staff(url, region, groups)


async def _wait_national(port: int, expected: dict[str, int], say: Say) -> None:
    """Every write is one event; wait until the gateway applied them all (or say how far)."""
    query = (
        "{ regions { id eventsApplied groupCount memberCount meetingCount lastEventAt"
        " linkActive eventsBehind } }"
    )
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient(timeout=10) as http:
        while True:
            body = (
                await http.post(f"http://127.0.0.1:{port}/graphql", json={"query": query})
            ).json()
            rows = {r["id"]: r for r in (body.get("data") or {}).get("regions", [])}
            behind = {r: n - rows.get(r, {}).get("eventsApplied", 0) for r, n in expected.items()}
            if all(b <= 0 for b in behind.values()):
                break
            if time.monotonic() > deadline:
                say(f"warning: the nation is still behind: {behind}")
                break
            await asyncio.sleep(0.5)
    say("The national read model has every region's events:")
    say(
        f"  {'region':<10} {'groups':>6} {'members':>7} {'meetings':>8}  "
        f"{'link':<4} {'behind':>6}  last event"
    )
    for region in expected:
        r = rows.get(region, {})
        link = "up" if r.get("linkActive") else "DOWN"
        behind = r.get("eventsBehind")
        say(
            f"  {region:<10} {r.get('groupCount', 0):>6} {r.get('memberCount', 0):>7} "
            f"{r.get('meetingCount', 0):>8}  {link:<4} {'?' if behind is None else behind:>6}  "
            f"{r.get('lastEventAt')}"
        )


def _ports_problem(port: int, consoles: dict[str, int]) -> str:
    """What keeps the demo from its ports ("" if nothing): taken, or asked for twice."""
    for region, console in consoles.items():
        if console == port:
            return (
                f"the console of region {region} would take port {port}, the gateway's "
                "(--port); choose other ports with --port or --console-port"
            )
    if not _port_free(port):
        return f"port {port} (the gateway) is in use; choose another with --port"
    for region, console in consoles.items():
        if not _port_free(console):
            first = min(consoles.values())
            return (
                f"port {console} (the console of region {region}; the consoles take "
                f"{first}-{first + len(consoles) - 1}) is in use; choose other ports with "
                "--console-port FIRST"
            )
    return ""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # like the server that will listen there: a port whose old connections wait in
        # TIME_WAIT (the demo just stopped) is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
