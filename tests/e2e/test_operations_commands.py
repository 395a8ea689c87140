"""Operating a federation with the real commands (issue 10, parts 3 and 5), as subprocesses:

- ``mgn region up``: a service killed with SIGKILL comes back (new pid, one restart in
  ``mgn region status``) while the leaf server and the other services keep their pids; the
  same for the gateway and the hub's nats-server under ``mgn hub up`` (``mgn hub status``):
  the restarted hub keeps the regions added while it ran, and ``hub add-region`` signals it.
- ``mgn region backup``, more writes, ``mgn region restore`` of the older backup: the
  operator is told which events the backup lacks; the console's staff accounts and audit
  trail are the backup's; the region runs again, its new writes
  reach the nation, and NATIONAL holds every event id exactly once.
- ``mgn hub backup`` / ``mgn hub restore``: the older read model catches up from NATIONAL
  at the next ``mgn hub up``, every event applied once.
- A service that keeps crashing (its SQLite file destroyed) stops ``mgn region up`` with a
  message that names it.

On SQLite and PostgreSQL (the crash loop on SQLite only: it destroys a database file).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import nats
import pytest

from deploy.federation import HubAuth, database_url_for
from deploy.natsserver import free_port
from services.console import audit
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine, session_factory
from tests.e2e.support import free_ports_in_a_row, stream_msg_ids
from tests.e2e.test_hub_region_commands import (  # noqa: F401 - `databases` is a fixture
    Command,
    alive,
    databases,
    graphql,
    node_headers,
    run,
)
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

CREATE_GROUP = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
NATION = "{ groups(first: 500) { edges { node { name } } } regions { id eventsApplied } }"


def children(workdir: Path) -> dict[str, dict[str, Any]]:
    state = json.loads((workdir / "supervisor.json").read_text(encoding="utf-8"))
    return {child["name"]: child for child in state["children"]}


async def restarted(workdir: Path, name: str, old_pid: int) -> dict[str, Any] | None:
    child = children(workdir)[name]
    ok = child["state"] == "running" and child["pid"] not in (None, old_pid)
    return child if ok and child["restarts"] >= 1 else None


class Federation:
    def __init__(self, tmp_path: Path, dbs: dict[str, str]) -> None:
        self.tmp = tmp_path
        self.dbs = dbs
        self.hub_dir, self.region_dir = tmp_path / "hub", tmp_path / "oulu"
        self.ports = {k: free_port() for k in ("gateway", "nats", "leaf", "monitor")}
        self.national = f"http://127.0.0.1:{self.ports['gateway']}/graphql"
        self.hub: Command | None = None
        self.region: Command | None = None
        self.groups_url = ""
        self.runs = 0

    async def hub_up(self) -> None:
        self.runs += 1
        p = self.ports
        self.hub = Command(
            "mgn hub up",
            [
                "hub", "up", "--workdir", str(self.hub_dir), "--port", str(p["gateway"]),
                "--nats-port", str(p["nats"]), "--leaf-port", str(p["leaf"]),
                "--monitor-port", str(p["monitor"]),
                "--advertise", f"nats-leaf://127.0.0.1:{p['leaf']}", "--db", self.dbs["gateway"],
            ],
            self.tmp / f"hub-{self.runs}.out",
        )  # fmt: skip
        await self.hub.wait_for_line("Press Ctrl-C")

    async def region_up(self) -> None:
        self.runs += 1
        args = ["region", "up", "--region", "oulu", "--workdir", str(self.region_dir)]
        args += ["--mail-dir", str(self.region_dir / "mail"), "--console-port", str(free_port())]
        args += ["--base-port", str(free_ports_in_a_row(3))]
        args += ["--credentials", str(self.hub_dir / "credentials" / "oulu.json")]
        if self.dbs["region"]:
            args += ["--db", self.dbs["region"]]
        self.region = Command("mgn region up", args, self.tmp / f"region-{self.runs}.out")
        await self.region.wait_for_line(r"Joined the hub: NATIONAL sources oulu")
        self.groups_url = (await self.region.wait_for_line(r"groups: (http://\S+/graphql)")).group(
            1
        )

    async def write(self, name: str) -> None:
        group = {"name": name, "municipality": "Oulu", "foundedOn": "2015-02-01"}
        await graphql(self.groups_url, CREATE_GROUP, node_headers(self.region_dir), i=group)

    async def national_groups(self) -> set[str]:
        data = await graphql(self.national, NATION)
        return {edge["node"]["name"] for edge in data["groups"]["edges"]}

    async def wait_national(self, *names: str) -> None:
        async def there() -> bool:
            return set(names) <= await self.national_groups()

        await wait_for(there, timeout=90, interval=0.5, message=f"{names} nationally")

    async def national_ids(self) -> list[str]:
        auth = HubAuth.load_or_create(self.hub_dir / "auth.json")
        nc = await nats.connect(auth.gateway_url(f"nats://127.0.0.1:{self.ports['nats']}"))
        try:
            return await stream_msg_ids(nc.jetstream(domain="hub"), NATIONAL_STREAM)
        finally:
            await nc.close()

    def mgn(self, *args: str) -> str:
        done = run(*args)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def staff(self, *args: str) -> str:
        """``mgn region user ...`` on the region's console database."""
        where = ("--region", "oulu", "--workdir", str(self.region_dir), *self.region_db_args())
        return self.mgn("region", "user", args[0], *where, *args[1:])

    async def audit_targets(self) -> list[str]:
        """The console's audit trail (targets, oldest first), read from its database."""
        template = self.dbs["region"] or None
        url = database_url_for(template, self.region_dir, "console", "oulu")
        engine = create_engine(url, sqlite_immediate=False)
        try:
            async with session_factory(engine)() as session:
                trail, _ = await audit.entries(session)
        finally:
            await engine.dispose()
        return [entry.target for entry in reversed(trail)]

    def region_db_args(self) -> list[str]:
        return ["--db", self.dbs["region"]] if self.dbs["region"] else []

    def kill(self) -> None:
        for command in (self.region, self.hub):
            if command is not None:
                command.kill()


async def test_restarts_backup_restore_and_a_crash_loop(
    tmp_path: Path,
    databases: dict[str, str],  # noqa: F811
) -> None:
    fed = Federation(tmp_path, databases)
    try:
        await fed.hub_up()
        fed.mgn("hub", "add-region", "oulu", "--workdir", str(fed.hub_dir))
        await fed.region_up()
        await fed.write("A")
        await fed.wait_national("A")

        # -- a service killed: it alone comes back --------------------------------------
        before = children(fed.region_dir)
        groups_pid = before["oulu/groups"]["pid"]
        os.kill(groups_pid, signal.SIGKILL)
        await wait_for(
            lambda: restarted(fed.region_dir, "oulu/groups", groups_pid), timeout=60, message="up"
        )
        after = children(fed.region_dir)
        for name in ("mgn-oulu", "oulu/meetings", "oulu/feedback"):
            assert after[name]["pid"] == before[name]["pid"], name  # never stopped
            assert after[name]["restarts"] == 0
            assert alive(after[name]["pid"])
        assert after["oulu/groups"]["last_exit_code"] == -signal.SIGKILL
        assert "oulu/groups exited (code -9); restarting it in 0.5s" in fed.region.output()  # type: ignore[union-attr]

        def healthy_status() -> str | None:
            args = ("region", "status", "--region", "oulu", "--workdir", str(fed.region_dir))
            done = run(*args)  # exit 0: every process runs, the link is up, all answer
            ok = done.returncode == 0 and "groups: nats_connected=True" in done.stdout
            return done.stdout if ok else None

        status = await wait_for(healthy_status, timeout=60, message="region status all good")
        assert "mgn region up: running" in status
        groups_row = next(line for line in status.splitlines() if "oulu/groups" in line)
        assert "running" in groups_row
        assert str(after["oulu/groups"]["pid"]) in groups_row
        assert "code -9" in groups_row

        # -- the gateway killed under `mgn hub up` ---------------------------------------
        gateway_pid = children(fed.hub_dir)["hub/gateway"]["pid"]
        hub_nats_pid = children(fed.hub_dir)["mgn-hub"]["pid"]
        os.kill(gateway_pid, signal.SIGKILL)
        await wait_for(
            lambda: restarted(fed.hub_dir, "hub/gateway", gateway_pid), timeout=60, message="up"
        )
        assert children(fed.hub_dir)["mgn-hub"]["pid"] == hub_nats_pid
        hub_status = fed.mgn("hub", "status", "--workdir", str(fed.hub_dir))
        assert "mgn hub up: running" in hub_status

        # -- the hub's nats-server killed: back on its ports, with every region's user --------
        fed.mgn("hub", "add-region", "kainuu", "--workdir", str(fed.hub_dir))  # after the start
        os.kill(hub_nats_pid, signal.SIGKILL)
        new_hub = await wait_for(
            lambda: restarted(fed.hub_dir, "mgn-hub", hub_nats_pid), timeout=60, message="up"
        )
        hub_state = json.loads((fed.hub_dir / "hub.json").read_text())
        assert hub_state["pid"] == new_hub["pid"]  # `add-region` signals the live server
        added = fed.mgn("hub", "add-region", "lappi", "--workdir", str(fed.hub_dir))
        assert "The running hub reloaded its users." in added
        assert "kainuu" in (fed.hub_dir / "nats" / "nats-server.conf").read_text()
        await fed.write("B")
        await fed.wait_national("A", "B")

        # -- backups, then more writes -----------------------------------------------------
        fed.staff("add", "ada", "--role", "admin", "--generate")  # console db: before
        region_backup, hub_backup = tmp_path / "backup-oulu", tmp_path / "backup-hub"
        out = fed.mgn(
            "region", "backup", "--region", "oulu", "--workdir", str(fed.region_dir),
            "--out", str(region_backup), *fed.region_db_args(),
        )  # fmt: skip
        assert "Not in any backup:" in out
        assert "NATS streams" in out
        assert "1 staff accounts, 0 API tokens, 1 audit entries" in out  # the console's
        fed.staff("add", "bea", "--role", "admin", "--generate")  # after the backup
        out = fed.mgn(
            "hub", "backup", "--workdir", str(fed.hub_dir), "--db", databases["gateway"],
            "--out", str(hub_backup),
        )  # fmt: skip
        assert "NATIONAL events applied up to sequence" in out
        await fed.write("C")  # after the backups: in the stream and the nation, not the copy
        await fed.wait_national("A", "B", "C")

        # -- restore the region from the older backup ----------------------------------------
        assert fed.region is not None
        assert await fed.region.interrupt() == 0
        refused = run("region", "restore", "--region", "oulu", "--from", str(tmp_path / "nope"),
                      "--workdir", str(fed.region_dir), *fed.region_db_args())  # fmt: skip
        assert refused.returncode != 0
        assert "is not a backup" in refused.stderr
        out = fed.mgn(
            "region", "restore", "--region", "oulu", "--from", str(region_backup),
            "--workdir", str(fed.region_dir), *fed.region_db_args(),
        )  # fmt: skip
        assert "groups: 1 events written after the backup are NOT in the restored database" in out
        assert "groups.group.created" in out
        assert "meetings: nothing was written after the backup." in out
        assert "console: staff accounts, API tokens and the audit trail as at the backup" in out
        assert "Not in any backup:" in out
        report = json.loads((fed.region_dir / "restore-report.json").read_text())
        assert report["stream_found"] is True
        accounts = fed.staff("list")  # the console's database is the backup's
        assert "ada " in accounts
        assert "bea" not in accounts
        assert await fed.audit_targets() == ["staff:ada"]
        await fed.region_up()
        await fed.write("D")
        await fed.wait_national("A", "B", "C", "D")
        ids = await fed.national_ids()
        assert len(ids) == len(set(ids)), "an event reached NATIONAL twice"

        # -- restore the hub's read model from its older backup -------------------------------
        assert fed.hub is not None
        assert await fed.hub.interrupt() == 0
        out = fed.mgn(
            "hub", "restore", "--from", str(hub_backup), "--workdir", str(fed.hub_dir),
            "--db", databases["gateway"],
        )  # fmt: skip
        assert "applies NATIONAL again from sequence" in out
        await fed.hub_up()
        assert "after the restore: the gateway applies NATIONAL again" in fed.hub.output()
        await fed.wait_national("A", "B", "C", "D")

        async def every_event_once() -> bool:
            data = await graphql(fed.national, NATION)
            applied = {r["id"]: r["eventsApplied"] for r in data["regions"]}
            return applied.get("oulu") == len(await fed.national_ids())

        await wait_for(every_event_once, timeout=60, message="each national event applied once")

        if databases["region"]:
            return  # the crash loop destroys a SQLite file
        # -- a service that keeps crashing stops the command ------------------------------
        groups_pid = children(fed.region_dir)["oulu/groups"]["pid"]
        os.kill(groups_pid, signal.SIGKILL)
        db_file = fed.region_dir / "groups.db"
        for leftover in (Path(f"{db_file}-wal"), Path(f"{db_file}-shm")):
            leftover.unlink(missing_ok=True)
        db_file.write_bytes(b"this is not a database" * 100)
        assert fed.region is not None
        code = await asyncio.to_thread(fed.region.proc.wait, 120)
        output = fed.region.output()
        assert code == 1, output
        assert "oulu/groups crashed 6 times within 120s" in output
        assert "not restarting it again" in output
        assert "Stopped." in output
    finally:
        fed.kill()


async def test_restore_refuses_while_the_region_runs(tmp_path: Path) -> None:
    """A restore under running services would replace their databases: refused."""
    workdir = tmp_path / "oulu"
    workdir.mkdir()
    mgn_like = tmp_path / "mgn"  # a process that looks like an `mgn` command
    mgn_like.symlink_to(sys.executable)
    sleeper = await asyncio.create_subprocess_exec(
        str(mgn_like), "-c", "import time; time.sleep(30)"
    )
    try:
        (workdir / "supervisor.json").write_text(
            json.dumps({"command": "mgn region up", "pid": sleeper.pid, "children": []})
        )
        done = run("region", "restore", "--region", "oulu", "--from", str(tmp_path),
                   "--workdir", str(workdir))  # fmt: skip
        assert done.returncode != 0
        assert f"`mgn region up --region oulu` is running (pid {sleeper.pid})" in done.stderr
    finally:
        sleeper.kill()
        await sleeper.wait()
