"""The real commands as an agency and the university run them, as subprocesses:
``mgn hub up``, ``mgn hub add-region``, ``mgn region up`` (credentials file from the hub, no
``--hub``: the file names it), ``mgn region status``; a regional write reaches national
GraphQL; SIGINT stops every child process (their pids are gone afterwards). On SQLite and on
PostgreSQL (one database per service and one for the gateway).

The leafnode link runs through a recording TCP proxy (the address the hub advertises): the
bytes carry neither the region's key seed nor the event bodies (TLS from the first byte).
``mgn region check-link`` refuses a wrong CA and a wrong key, saying which."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from deploy.credentials import RegionCredentials
from deploy.natsserver import free_port
from deploy.pki import ensure_hub_tls, new_region_key
from shared.runtime.credentials import NodeCredentials
from tests.e2e.support import RecordingProxy, free_ports_in_a_row
from tests.fixtures.db import _admin
from tests.fixtures.nats import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("groups", "meetings", "feedback")


def mgn(*args: str) -> list[str]:
    return [sys.executable, "-m", "deploy.cli", *args]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``mgn ARGS`` to completion, output captured."""
    return subprocess.run(
        mgn(*args), cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...), from /proc."""
    parent_of: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parent_of[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier}
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Command:
    """A foreground ``mgn`` command with its output in a file."""

    def __init__(self, name: str, args: list[str], log: Path) -> None:
        self.name = name
        self.log = log
        self._out: IO[bytes] = log.open("wb")
        self.proc = subprocess.Popen(
            mgn(*args), cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait_for_line(self, pattern: str, timeout: float = 90.0) -> re.Match[str]:
        def seen() -> re.Match[str] | None:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.output()}")
            return re.search(pattern, self.output())

        try:
            return await wait_for(seen, timeout=timeout, interval=0.2, message=pattern)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {pattern!r} in:\n{self.output()}") from None

    async def interrupt(self, timeout: float = 60.0) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = await asyncio.to_thread(self.proc.wait, timeout)
        self._out.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            for child in descendants(self.proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def databases(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, str]]:
    """``{"gateway": url, "region": template with {service}}`` on the backend."""
    if request.param == "sqlite":
        yield {"gateway": f"sqlite:///{tmp_path / 'gateway.db'}", "region": ""}
        return
    admin = str(request.getfixturevalue("postgres_admin_url"))
    prefix = f"fed_e2e_{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}_{s}" for s in (*SERVICES, "console", "gateway")]
    for name in names:
        await _admin(admin, f'CREATE DATABASE "{name}"')
    base = make_url(admin).set(drivername="postgresql")
    url = base.set(database=f"{prefix}_gateway").render_as_string(hide_password=False)
    template = base.set(database=f"{prefix}_SERVICE").render_as_string(hide_password=False)
    try:
        yield {"gateway": url, "region": template.replace("SERVICE", "{service}")}
    finally:
        for name in names:
            await _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def graphql(
    url: str, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, headers=headers) as client:
        body = (await client.post(url, json={"query": query, "variables": variables})).json()
    assert not body.get("errors"), body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def node_headers(region_dir: Path) -> dict[str, str]:
    """The console's credential of the node ``mgn region up`` runs in ``region_dir``."""
    return NodeCredentials.load(region_dir / "node-credentials.json").headers("console")


CREATE_GROUP = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
NATION = """{ regions { id linkActive eventsBehind eventsApplied }
  groups(first: 500) { edges { node { id name } } } }"""


async def test_hub_up_add_region_region_up_status_and_sigint_stops_everything(
    tmp_path: Path, databases: dict[str, str], record_property: Any
) -> None:
    gateway_port, nats_port, leaf_port, monitor_port = (free_port() for _ in range(4))
    hub_dir, region_dir = tmp_path / "hub", tmp_path / "oulu"
    proxy = RecordingProxy(leaf_port)  # regions reach the hub through it: a capture
    advertise = f"nats-leaf://127.0.0.1:{proxy.port}"
    started = time.monotonic()
    hub = Command(
        "mgn hub up",
        [
            "hub", "up", "--workdir", str(hub_dir), "--port", str(gateway_port),
            "--nats-port", str(nats_port), "--leaf-port", str(leaf_port),
            "--monitor-port", str(monitor_port), "--advertise", advertise,
            "--db", databases["gateway"],
        ],
        tmp_path / "hub.out",
    )  # fmt: skip
    region: Command | None = None
    try:
        await proxy.__aenter__()
        await hub.wait_for_line("Press Ctrl-C")
        assert "TLS: made a new CA" in hub.output()
        assert (hub_dir / "tls" / "ca-key.pem").stat().st_mode & 0o777 == 0o600
        assert f"leafnode URL for regions: {advertise}" in hub.output()

        added = await asyncio.to_thread(run, "hub", "add-region", "oulu", "--workdir", str(hub_dir))
        assert added.returncode == 0, added.stdout + added.stderr
        assert "The running hub reloaded its users." in added.stdout
        credentials = hub_dir / "credentials" / "oulu.json"
        assert credentials.stat().st_mode & 0o077 == 0
        creds = RegionCredentials.load(credentials)
        assert creds.hubs == (advertise,)  # the region is told where the hub is
        auth = (hub_dir / "auth.json").read_text()
        assert creds.public_key in auth  # the hub keeps the public key, never the seed
        assert creds.nkey_seed not in auth

        region_args = ["region", "up", "--region", "oulu", "--credentials", str(credentials)]
        region_args += ["--workdir", str(region_dir), "--mail-dir", str(region_dir / "mail")]
        region_args += ["--base-port", str(free_ports_in_a_row(3))]
        region_args += ["--console-port", str(free_port())]
        if databases["region"]:
            region_args += ["--db", databases["region"]]
        region = Command("mgn region up", region_args, tmp_path / "region.out")
        await region.wait_for_line(r"Joined the hub: NATIONAL sources oulu")
        await region.wait_for_line(r"Link to the hub: UP")
        groups_url = (await region.wait_for_line(r"groups: (http://\S+/graphql)")).group(1)
        record_property("federation_up_seconds", round(time.monotonic() - started, 1))

        status = await asyncio.to_thread(
            run, "region", "status", "--region", "oulu", "--workdir", str(region_dir)
        )
        assert status.returncode == 0, status.stdout + status.stderr
        assert "leaf link to the hub: UP" in status.stdout
        for service in SERVICES:
            assert f"{service}: nats_connected=True" in status.stdout, status.stdout

        marker = uuid.uuid4().hex[:12]
        before = len(proxy.captured)
        name = f"Kasvuryhmä {marker}"
        await graphql(
            groups_url,
            CREATE_GROUP,
            node_headers(region_dir),
            i={"name": name, "municipality": "Oulu", "foundedOn": "2015-02-01"},
        )
        national = f"http://127.0.0.1:{gateway_port}/graphql"

        async def visible() -> dict[str, Any] | None:
            data = await graphql(national, NATION)
            rows = {r["id"]: r for r in data["regions"]}
            oulu = rows.get("oulu")
            names = {e["node"]["name"] for e in data["groups"]["edges"]}
            ok = oulu and oulu["linkActive"] and oulu["eventsBehind"] == 0 and name in names
            return data if ok else None

        await wait_for(visible, timeout=60, interval=0.5, message="the group nationally")

        # What a capture of the link shows: TLS records both ways from the first byte, and
        # neither the seed, nor the event, nor the protocol's own words in clear.
        assert proxy.connections >= 1
        assert proxy.upstream[:1] == b"\x16"  # a TLS handshake record, before any INFO
        assert proxy.downstream[:1] == b"\x16"
        for secret in (creds.nkey_seed, marker, "Kasvuryhm", "CONNECT", "INFO", "mgn.oulu"):
            assert secret.encode() not in proxy.captured, secret
        assert len(proxy.captured) > before  # the event and the sourcing did cross it

        if not databases["region"]:  # once is enough: a wrong CA, a wrong key, the right file
            await check_link_refusals(tmp_path, creds, advertise)

        # Ctrl-C: each command stops everything it started.
        children = descendants(region.proc.pid) | descendants(hub.proc.pid)
        assert len(children) >= 5, children  # 2 nats-servers, gateway, 3 services
        assert await region.interrupt() == 0, region.output()
        assert "Stopped." in region.output()
        assert await hub.interrupt() == 0, hub.output()
        assert "Stopped." in hub.output()
        await wait_for(
            lambda: not [p for p in children if alive(p)], timeout=20, message="children gone"
        )
        no_secret_in_logs_and_nothing_readable_by_others(tmp_path, hub_dir, credentials)
    finally:
        for command in (region, hub):
            if command is not None:
                command.kill()
        await proxy.__aexit__()


async def check_link_refusals(tmp_path: Path, creds: RegionCredentials, hub: str) -> None:
    """``mgn region check-link``: the right file links; another CA and another key are each
    refused with a message that says which."""
    other_ca, _ = ensure_hub_tls(tmp_path / "other-hub", ["127.0.0.1"])
    cases = {
        "right": (creds, 0, "Link to the hub: UP"),
        "wrong-ca": (
            RegionCredentials(creds.region, creds.nkey_seed, creds.hubs, other_ca.ca_pem()),
            1,
            "the hub did not prove itself: its TLS certificate is not signed by the CA",
        ),
        "wrong-key": (
            RegionCredentials(creds.region, new_region_key()[0], creds.hubs, creds.hub_ca),
            1,
            "the hub refused the region's key",
        ),
    }

    async def check(name: str) -> None:
        given, code, says = cases[name]
        path = given.save(tmp_path / f"{name}.json")
        result = await asyncio.to_thread(
            run, "region", "check-link", "--credentials", str(path), "--timeout", "20"
        )
        assert result.returncode == code, (name, result.stdout + result.stderr)
        assert says in result.stdout, (name, result.stdout)

    await asyncio.gather(*(check(name) for name in cases))


# where a secret must be: the hub's users, a region's credentials, each nats-server's config
SECRET_HOLDERS = ("auth.json", "oulu.json", "nats-server.conf")


def no_secret_in_logs_and_nothing_readable_by_others(
    tmp_path: Path, hub_dir: Path, credentials: Path
) -> None:
    """After a real run: neither the gateway's full-rights NATS password nor the region's
    appears in any log, state file or output; every file and directory the commands made
    is its owner's alone (0600/0700)."""
    auth = json.loads((hub_dir / "auth.json").read_text())
    region = json.loads(credentials.read_text())
    secrets = [auth["gateway_password"], region.get("nkey_seed") or region["password"]]
    assert all(len(s) >= 16 for s in secrets)
    found = []
    written = [*hub_dir.rglob("*"), *(tmp_path / "oulu").rglob("*"), *tmp_path.glob("*.out")]
    for path in written:  # (not the test's own copies of credentials files)
        if path.is_file() and path.name not in SECRET_HOLDERS:
            data = path.read_bytes()
            found += [f"{path}" for s in secrets if s.encode() in data]
    assert not found, f"a password is written in: {found}"
    logs = list(tmp_path.rglob("*.log"))
    assert len(logs) >= 6, logs  # 2 nats-servers, the gateway, 3 services
    assert any("gateway started" in p.read_text(errors="replace") for p in logs)
    loose = [
        f"{oct(stat.S_IMODE(p.stat().st_mode))} {p}"
        for made in (hub_dir, tmp_path / "oulu")
        for p in (made, *made.rglob("*"))
        if stat.S_IMODE(p.stat().st_mode) & 0o077
    ]
    # the gateway's SQLite read model, when the test put it beside the workdirs
    loose += [f"{p}" for p in tmp_path.glob("gateway.db*") if p.stat().st_mode & 0o077]
    assert not loose, "readable by others:\n" + "\n".join(loose)


def test_region_up_without_credentials_or_with_a_shared_database_is_refused(
    tmp_path: Path,
) -> None:
    """Refused before anything starts, with a message that says what to do."""
    no_creds = run("region", "up", "--region", "oulu", "--hub", "nats-leaf://127.0.0.1:7422")
    assert no_creds.returncode != 0
    assert "--credentials FILE is required" in no_creds.stderr
    assert "mgn hub add-region oulu" in no_creds.stderr

    tls, _ = ensure_hub_tls(tmp_path / "hub-tls", ["127.0.0.1"])
    creds = RegionCredentials("oulu", new_region_key()[0], (), tls.ca_pem())
    creds.save(tmp_path / "oulu.json")
    shared_db = run(
        "region", "up", "--region", "oulu", "--credentials", str(tmp_path / "oulu.json"),
        "--hub", "nats-leaf://127.0.0.1:7422", "--db", "postgresql://mgn@db/region",
        "--workdir", str(tmp_path / "oulu"),
    )  # fmt: skip
    assert shared_db.returncode != 0
    assert "must contain {service}" in shared_db.stderr
    assert not (tmp_path / "oulu").exists()  # nothing started
