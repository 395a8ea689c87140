"""How fast the console serves its pages at the demo's data volume (issue 9 part 10): every
page p95 < 100 ms with a region of 300 members and a group of 120 meetings.

    python bench/console.py                     # start, load, measure, stop
    python bench/console.py --repeat 50 --profile /tmp/prof   # and where the console spent CPU

Starts a node (``bench/console_node.py``: hub, gateway, the region's services and its
console as processes on SQLite, loaded through the regional APIs), signs in as the big
group's facilitator (and as an admin for the admin pages and the region-wide lists), then
requests every page ``--repeat`` times one after the other over one keep-alive connection,
as a browser would, after ``--warmup`` requests. Per page: status, p50 / p95 / max of the
response time (request sent to body read) and the load average at its end (``os.getloadavg``:
on a shared 2-core machine a load above 2 means other work took the CPU from the
measurement). Beside them, the CPU time per request (user + system, from /proc/<pid>/stat,
``bench/cpu.py``) of the console and of each regional service over the page's timed
requests: what the page costs the machine whatever the load, so the number that tells
whether a page *can* be served in 100 ms (it cannot when its CPU alone takes longer).
A page answering anything but its expected status fails the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

if __package__ in (None, ""):  # `python bench/console.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.console_node import ConsoleNode, restart, start_console_node
from bench.console_own import own_cpu
from bench.cpu import cpu_seconds
from bench.profiles import profile_report
from bench.report import percentile
from deploy.federation import CONSOLE, REGIONAL_SERVICES

TARGET_MS = 100.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MEETINGS = """query($g: UUID!) { meetings(groupId: $g, status: HELD, first: 1) { id startsAt } }"""
MEMBERS = """query($g: UUID!) { members(groupId: $g, activeOnly: true) { id companyName } }"""


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    who: str = "facilitator"  # or admin
    status: int = 200


@dataclass
class Result:
    page: Page
    times: list[float]  # seconds
    statuses: set[int]
    load: float
    cpu: dict[str, float]  # process name -> CPU ms per request

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    @property
    def ok(self) -> bool:
        return self.statuses == {self.page.status}

    def ms(self, q: float) -> float:
        return percentile(self.times, q / 100) * 1000


async def pages(node: ConsoleNode) -> list[Page]:
    """Every page of the console, with the ids of real things of the loaded node."""
    g = node.group_id
    held = (await node.api("meetings", MEETINGS, g=g))["meetings"][0]
    members = (await node.api("groups", MEMBERS, g=g))["members"]
    member = members[0]["id"]
    word = members[0]["companyName"].split()[0]
    meeting, month = held["id"], held["startsAt"][:7]
    return [
        Page("home", "/"),
        Page("groups", "/groups"),
        Page("group", f"/groups/{g}"),
        Page("members list (group)", "/members"),
        Page("members search", f"/members?q={word}"),
        Page("members list (region, admin)", "/members", "admin"),
        Page("members search (region, admin)", f"/members?q={word}", "admin"),
        Page("member page", f"/members/{member}"),
        Page("member form (new)", f"/members/new?group={g}"),
        Page("member form (edit)", f"/members/{member}/edit"),
        Page("interviews", f"/members/{member}/interviews"),
        Page("meetings", "/meetings", status=303),  # one group: straight to its list
        Page("meetings (admin)", "/meetings", "admin"),
        Page("meetings list", f"/groups/{g}/meetings"),
        Page("meetings list p.2", f"/groups/{g}/meetings?page=2"),
        Page("month view", f"/groups/{g}/meetings/month?month={month}"),
        Page("schedule form", f"/groups/{g}/meetings/new"),
        Page("meeting page", f"/meetings/{meeting}"),
        Page("feedback", "/feedback"),
        Page("feedback results", f"/feedback/meetings/{meeting}"),
        Page("admin", "/admin", "admin"),
        Page("admin staff", "/admin/staff", "admin"),
        Page("admin staff account", f"/admin/staff/{node.facilitator[0]}", "admin"),
        Page("admin tokens", "/admin/tokens", "admin"),
        Page("admin erasure", f"/admin/erasure?q={word}", "admin"),
        Page("audit", "/admin/audit", "admin"),
    ]


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> None:
    page = await http.get("/signin")
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on /signin (HTTP {page.status_code})")
    done = await http.post(
        "/signin",
        data={"username": username, "password": password, "csrf_token": found.group(1)},
    )
    if done.status_code != 303 or "mgn_session" not in http.cookies:
        raise RuntimeError(f"sign-in as {username} failed: HTTP {done.status_code}")


async def measure(
    node: ConsoleNode, repeat: int, warmup: int, only: tuple[str, ...] = ()
) -> list[Result]:
    results = []
    clients = {
        who: httpx.AsyncClient(base_url=node.url, timeout=30, headers={"Accept-Language": "fi"})
        for who in ("facilitator", "admin")
    }
    try:
        await sign_in(clients["facilitator"], *node.facilitator)
        await sign_in(clients["admin"], *node.admin)
        chosen = [p for p in await pages(node) if not only or p.name in only]
        await idle_cpu(node)
        for page in chosen:
            http = clients[page.who]
            for _ in range(warmup):
                await http.get(page.path)
            times, statuses = [], set()
            pids = node.pids()
            cpu_before = {name: cpu_seconds([pid]) for name, pid in pids.items()}
            for _ in range(repeat):
                started = time.perf_counter()
                response = await http.get(page.path)
                times.append(time.perf_counter() - started)
                statuses.add(response.status_code)
            cpu = {
                name: (cpu_seconds([pid]) - cpu_before[name]) * 1000 / repeat
                for name, pid in pids.items()
            }
            results.append(Result(page, times, statuses, os.getloadavg()[0], cpu))
    finally:
        for http in clients.values():
            await http.aclose()
    return results


CPU_COLUMNS = (CONSOLE, *REGIONAL_SERVICES)
IDLE_SECONDS = 5.0


async def idle_cpu(node: ConsoleNode) -> None:
    """Print the CPU each process spends with no request at all (its outbox relay's poll,
    NATS heartbeats): counted in the CPU per request too, in proportion to the wall-clock
    time a request took, so a slow page on a loaded machine shows more of it."""
    pids = node.pids()
    before = {name: cpu_seconds([pid]) for name, pid in pids.items()}
    await asyncio.sleep(IDLE_SECONDS)
    rates = {
        name: (cpu_seconds([pid]) - before[name]) * 1000 / IDLE_SECONDS
        for name, pid in pids.items()
    }
    print(
        f"idle CPU over {IDLE_SECONDS:g} s, ms per second: "
        + ", ".join(f"{name} {rate:.1f}" for name, rate in rates.items()),
        flush=True,
    )


def table(results: list[Result], repeat: int) -> str:
    cpu_heads = " ".join(f"{name[:8]:>8}" for name in CPU_COLUMNS)
    lines = [
        f"{'':<34} {'':>6} {'wall-clock':^23} {'':>5}  {'CPU ms per request':^44}",
        f"{'page':<34} {'status':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'load':>5}  "
        f"{cpu_heads} {'all':>8}  target p95 < {TARGET_MS:.0f} ms ({repeat} requests each)",
    ]
    for r in results:
        status = ",".join(str(s) for s in sorted(r.statuses))
        verdict = "PASS" if r.ok and r.ms(95) < TARGET_MS else "FAIL"
        if not r.ok:
            verdict += f" (expected HTTP {r.page.status})"
        cpu = " ".join(f"{r.cpu.get(name, 0.0):8.1f}" for name in CPU_COLUMNS)
        lines.append(
            f"{r.page.name:<34} {status:>6} {r.ms(50):7.1f} {r.ms(95):7.1f} "
            f"{max(r.times) * 1000:7.1f} {r.load:5.1f}  {cpu} {r.cpu_total:8.1f}  {verdict}"
        )
    failed = [r.page.name for r in results if not (r.ok and r.ms(95) < TARGET_MS)]
    lines.append(
        f"{len(results) - len(failed)}/{len(results)} pages pass"
        + (f"; FAIL: {', '.join(failed)}" if failed else "")
    )
    heavy = [f"{r.page.name} ({r.cpu_total:.0f} ms)" for r in results if r.cpu_total >= TARGET_MS]
    lines.append(
        f"CPU per request under {TARGET_MS:.0f} ms (all processes): "
        f"{len(results) - len(heavy)}/{len(results)} pages"
        + (f"; over: {', '.join(heavy)}" if heavy else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="requests per page (%(default)s)")
    parser.add_argument("--warmup", type=int, default=3, help="requests before (%(default)s)")
    parser.add_argument(
        "--pages",
        type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip()),
        default=(),
        help="only these pages, by name, comma-separated (default: all)",
    )
    parser.add_argument("--members", type=int, default=300, help="in the region (%(default)s)")
    parser.add_argument("--meetings", type=int, default=120, help="of the group (%(default)s)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="(default: a new temporary directory); one an earlier run loaded is reused",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the node after measuring: each time WORKDIR/remeasure appears, restart "
        "the processes it names (console, groups, meetings, feedback) and measure again; "
        "'profile DIR' in it: measure under cProfile into DIR; 'stop' ends (for working on "
        "the pages' speed without loading again)",
    )
    parser.add_argument(
        "--own",
        action="store_true",
        help="then the console's own CPU per page in this process, the services' answers "
        "replayed (bench/console_own.py): its page code without HTTP and the machine's load",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="then crawl again with the console and the services under cProfile "
        "(DIR/<name>.prof); print their top functions",
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mgn-bench-console-"))
    print(f"work directory: {workdir}; load average {os.getloadavg()[0]:.1f}")
    node = start_console_node(workdir, members=args.members, meetings=args.meetings)
    try:
        results = asyncio.run(measure(node, args.repeat, args.warmup, args.pages))
        print(table(results, args.repeat), flush=True)
        if args.own:
            print(own_table(node, workdir, results, args), flush=True)
        if args.profile:
            profile_node(node, args, args.profile)
        if args.keep:
            results = keep_measuring(node, workdir / "remeasure", args) or results
    finally:
        node.stop()
    return 0 if all(r.ok and r.ms(95) < TARGET_MS for r in results) else 1


def own_table(
    node: ConsoleNode, workdir: Path, results: list[Result], args: argparse.Namespace
) -> str:
    """The console's CPU per request in the crawl beside its page code's alone (in
    process, the services' answers replayed: no HTTP server, no connections, no load)."""
    chosen = [r.page for r in results]
    own = asyncio.run(own_cpu(node, workdir, chosen, args.repeat, args.warmup))
    lines = [
        f"{'page':<34} {'console CPU ms per request':>27} {'its page code alone':>20}",
        *(
            f"{r.page.name:<34} {r.cpu.get(CONSOLE, 0.0):27.1f} {own[r.page.name]:20.2f}"
            for r in results
        ),
    ]
    return "\n".join(lines)


PROFILED = (CONSOLE, *REGIONAL_SERVICES)


def profile_node(node: ConsoleNode, args: argparse.Namespace, directory: Path) -> None:
    """The crawl again with the console and the regional services under cProfile
    (``DIR/<name>.prof``), then where each spent its CPU (cProfile slows them down: read the
    proportions, not these times)."""
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["MGN_PROFILE_DIR"] = str(directory.resolve())
    try:
        restart(node, list(PROFILED))
    finally:
        del os.environ["MGN_PROFILE_DIR"]
    asyncio.run(measure(node, args.repeat, args.warmup, args.pages))
    restart(node, list(PROFILED))  # the profiled ones stop: their profiles are written
    print(profile_report(directory, PROFILED, top=25), flush=True)


def keep_measuring(node: ConsoleNode, trigger: Path, args: argparse.Namespace) -> list[Result]:
    results: list[Result] = []
    print(f"keeping the node: write process names (or 'stop') into {trigger}", flush=True)
    while True:
        if not trigger.exists():
            time.sleep(0.5)
            continue
        names = trigger.read_text(encoding="utf-8").split()
        trigger.unlink()
        if "stop" in names:
            return results
        if names[:1] == ["profile"] and len(names) == 2:
            profile_node(node, args, Path(names[1]))
            continue
        restart(node, names)
        results = asyncio.run(measure(node, args.repeat, args.warmup, args.pages))
        print(f"after restarting {', '.join(names) or 'nothing'}:")
        print(table(results, args.repeat), flush=True)
        if args.own:
            print(own_table(node, trigger.parent, results, args), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
