"""``mgn demo`` end to end: a real federation (hub, two regions, gateway) as child processes,
sample data loaded through the regional APIs (survey answers through the form, with the
links from the mailed ``.eml`` files). Every feature of the regional node reaches the
nation; Ctrl-C (SIGINT) during the load and after it leaves no process running (by pid);
the machine's own NATS server at 127.0.0.1:4222 gains no stream."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.natsserver import free_port
from deploy.sample_data import HELSINKI, plan_region
from shared.contracts import ACTIVITY_TYPES
from tests.e2e.support import free_ports_in_a_row

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("kainuu", "lappi")  # with 1 group and 2017-2019 both have recordings, leavers
SYSTEM_NATS = ("127.0.0.1", 4222)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a recycled pid of another user: not ours
        return False
    try:  # a zombie is not running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _assert_all_stopped(workdir: Path, at_least: int) -> None:
    pids = [int(p) for p in (workdir / "pids").read_text().split()]
    assert len(pids) >= at_least, pids
    deadline = time.monotonic() + 10
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive, f"still running: {alive}"


def _system_streams() -> set[str] | None:
    """Stream names on the machine's NATS (read only), or None if none answers there."""
    try:
        with socket.create_connection(SYSTEM_NATS, timeout=0.5):
            pass
    except OSError:
        return None

    async def names() -> set[str]:
        import nats

        nc = await nats.connect(f"nats://{SYSTEM_NATS[0]}:{SYSTEM_NATS[1]}", connect_timeout=2)
        try:
            return {s.config.name or "" for s in await nc.jetstream().streams_info()}
        except Exception:  # no JetStream there: nothing the demo could add either
            return set()
        finally:
            await nc.close()

    return asyncio.run(names())


class Demo:
    """``mgn demo`` as a child process whose output is read line by line."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.console_port = free_ports_in_a_row(len(REGIONS))  # REGIONS' consoles, in order
        self.workdir = tmp_path / "demo"
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deploy.cli",
                "demo",
                "--regions",
                ",".join(REGIONS),
                "--groups",
                "1",
                "--years",
                "2017-2019",
                "--port",
                str(self.port),
                "--console-port",
                str(self.console_port),
                "--workdir",
                str(self.workdir),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} after {timeout:g}s:\n{self.output[-4000:]}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"demo exited before {text!r}:\n{self.output[-4000:]}")
            self.lines.append(line)

    def interrupt(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        time.sleep(0.2)  # the reader thread drains the rest
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


def gql(url: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(url, json={"query": query, "variables": variables}, timeout=30).json()
    assert not body.get("errors"), body
    return dict(body["data"])


def _sign_in_to_each_console(out: str, first_port: int) -> dict[str, httpx.Client]:
    """The demo printed each region's console URL and its admin's sign-in: both work, and
    the consoles are on the fixed ports asked for (``--console-port``: the first region's,
    the next +1). Returns each region's console signed in as its admin."""
    consoles = dict(re.findall(r"^  (\w+): (http://127\.0\.0\.1:\d+)/$", out, re.M))
    admins = dict(re.findall(r"^    admin\s+admin-(\w+)\s+password (\S+)$", out, re.M))
    assert set(consoles) == set(admins) == set(REGIONS), out
    fixed = {region: f"http://127.0.0.1:{first_port + i}" for i, region in enumerate(REGIONS)}
    assert consoles == fixed, out
    listing = out.split("Regional consoles", 1)[1].split("National GraphQL API", 1)[0]
    strays = [
        line
        for line in listing.splitlines()[1:]
        if not re.match(r"^  \w+: http://|^    (admin|facilitator)\s", line)
    ]
    assert not strays, f"lines that break up the consoles' sign-ins: {strays}"  # log lines
    for region, url in fixed.items():  # the startup line names the same console
        assert re.search(rf"^  region {region}: console {url}, ", out, re.M), out
    signed_in = {}
    for region, url in consoles.items():
        browser = signed_in[region] = httpx.Client(base_url=url, timeout=30)
        page = browser.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        signed = browser.post(
            "/signin",
            data={"username": f"admin-{region}", "password": admins[region],
                  "csrf_token": csrf.group(1)},
        )  # fmt: skip
        assert signed.status_code == 303, signed.text
        home = browser.get("/")
        assert home.status_code == 200
        assert "Welcome" in home.text or "Tervetuloa" in home.text
        api = browser.post("/api/groups/graphql", json={"query": "{ groups { id } }"})
        assert len(api.json()["data"]["groups"]) == 1, region
    return signed_in


NATIONAL = """query($r: String!) {
  groups(region: $r) { totalCount }
  members(region: $r, first: 500) { totalCount edges { node { status } } }
  meetings(region: $r, first: 500) { totalCount edges { node {
    status attendanceCount recorded actions { id } } } }
  memos(region: $r) { totalCount }
  activities(region: $r, first: 500) { edges { node { type } } }
  initiatives(region: $r) { totalCount }
  surveys(region: $r, first: 500) { edges { node { invited responses } } }
  interviews(region: $r) { totalCount }
}"""


def test_every_feature_reaches_the_nation_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    streams_before = _system_streams()
    today = datetime.now(HELSINKI).date()  # the demo plans with the same day
    demo = Demo(tmp_path)
    try:
        demo.wait_for("Press Ctrl-C to stop everything.", timeout=300)
        out = demo.output
        graphql = f"http://127.0.0.1:{demo.port}/graphql"
        assert graphql in out
        assert "Try this query:" in out
        assert "error" not in out.lower(), out
        assert "warning: the nation is still behind" not in out
        assert f":{SYSTEM_NATS[1]}" not in out  # every leaf has its own port
        consoles = _sign_in_to_each_console(out, demo.console_port)

        regions = {r["id"]: r for r in gql(graphql, "{ regions { id eventsApplied } }")["regions"]}
        assert set(regions) == set(REGIONS)
        seen_statuses: Counter[str] = Counter()
        for region in REGIONS:
            data = gql(graphql, NATIONAL, r=region)
            (plan,) = plan_region(
                region, groups=1, first_year=2017, last_year=2019, today=today
            ).groups  # what the demo loaded into the region, to compare with the nation
            assert data["groups"]["totalCount"] == 1, region
            assert plan.csv_import is not None
            imported = plan.csv_import.rows
            assert data["members"]["totalCount"] == len(plan.members) + imported, region
            statuses = {e["node"]["status"] for e in data["members"]["edges"]}
            assert {"ACTIVE", "LEFT"} <= statuses, (region, statuses)  # joined, left
            meetings = [e["node"] for e in data["meetings"]["edges"]]
            assert len(meetings) == len(plan.meetings) >= 24, region  # monthly, 2017-2019
            by_status = Counter(m["status"] for m in meetings)
            assert by_status == Counter(m.status.upper() for m in plan.meetings), region
            seen_statuses.update(by_status)
            assert all((m["attendanceCount"] or 0) > 0 for m in meetings if m["status"] == "HELD")
            assert any(m["recorded"] for m in meetings), region
            assert any(m["actions"] for m in meetings), region  # follow-ups
            assert data["memos"]["totalCount"] == sum(bool(m.memo) for m in plan.meetings) > 0
            types = {e["node"]["type"].lower() for e in data["activities"]["edges"]}
            assert types == set(ACTIVITY_TYPES), (region, set(ACTIVITY_TYPES) - types)
            assert len(data["activities"]["edges"]) == sum(len(m.activities) for m in plan.meetings)
            assert data["initiatives"]["totalCount"] == len(plan.initiatives) > 0, region
            surveys = [e["node"] for e in data["surveys"]["edges"]]
            assert surveys, region
            assert any(s["responses"] > 0 for s in surveys), region  # answered via the form
            planned = sum(len(m.responses) + len(m.paper_responses) for m in plan.meetings)
            assert sum(s["responses"] for s in surveys) == planned, region  # form + paper
            planned_interviews = sum(len(m.interviews) for m in plan.members)
            assert data["interviews"]["totalCount"] == planned_interviews > 0, region
            assert list((demo.workdir / region / "mail").glob("*.eml")), region

            # the CSV import: refused naming both bad rows, then the fixed file imported
            refused = [line for line in demo.lines if f"{region}: CSV import" in line]
            assert len(refused) == 1, out
            assert "refused, nothing added" in refused[0]
            assert "[line 3]" in refused[0]
            assert "[line 4]" in refused[0]
            assert any(f"{region}: fixed CSV imported" in line for line in demo.lines), out
            # the erasure: the person is erased in the region, the nation got the event
            (erasure,) = [line for line in demo.lines if f"{region}: person " in line]
            person_id = re.search(r"person ([0-9a-f-]{36}) erased", erasure)
            assert person_id, erasure
            person = (
                consoles[region]
                .post(  # the groups API through the console, as admin
                    "/api/groups/graphql",
                    json={
                        "query": "query($id: UUID!) { person(id: $id) { erased name email } }",
                        "variables": {"id": person_id.group(1)},
                    },
                )
                .json()["data"]["person"]
            )
            assert person == {"erased": True, "name": None, "email": None}

        assert set(seen_statuses) == {"HELD", "CANCELLED", "PLANNED"}

        code = demo.interrupt()
        assert code == 0, demo.output[-3000:]
        assert "Stopped." in demo.output
        _assert_all_stopped(demo.workdir, at_least=1 + 1 + 2 * 4)
    finally:
        demo.kill()
    if streams_before is not None:
        assert _system_streams() == streams_before  # nothing created on the machine's NATS


def test_ctrl_c_during_the_load_stops_everything(tmp_path: Path) -> None:
    demo = Demo(tmp_path)
    try:
        demo.wait_for("Loading sample data", timeout=180)
        time.sleep(2)  # well inside the load
        code = demo.interrupt()
        assert code == 0, demo.output[-3000:]
        assert "Press Ctrl-C" not in demo.output  # it was interrupted before the end
        assert "Stopped." in demo.output
        _assert_all_stopped(demo.workdir, at_least=1 + 1 + 2 * 4)
    finally:
        demo.kill()
