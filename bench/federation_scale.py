"""Benchmark: a federation of N regions on one hub (issue 12 part 6).

    python bench/federation_scale.py                           # N = 10, 50, 100
    python bench/federation_scale.py --regions 10,50 --rate 1 --write 30 --outage 10

Per N, on this machine: one hub as ``mgn hub up`` runs it (its nats-server with the gateway
user and one nkey user per region, leafnode TLS; the gateway with its registrar, SQLite read
model) and N regional **leaf servers** (real nats-server processes, each signing in with its
region's credentials from ``add_region``: the region's nkey, the hub's CA), all started at
once. Each region has a small writer in this process (not the regional Python services:
their cost per write is in bench/pipeline.py) that creates the region's stream, asks the
hub's registrar to source it (:func:`deploy.federation.join_hub`, as ``mgn region up``
does) and publishes real contract events (bench/events.py: groups, members, meetings) into
its stream with ``Nats-Msg-Id``, as the outbox relay does.

Printed per N (every line with the load average):

- **join**: seconds from starting the N leaf servers until all are ready, all leaf links
  are up at the hub (``/leafz``), the registrar has answered every join, and NATIONAL holds
  each region's first event (sourcing from all of them);
- **idle** and **writing**: CPU of the hub's nats-server and of the gateway (``/proc``), in
  cores and in ms of CPU per second per region, over ``--idle`` seconds with nothing
  written and from the first write (``--rate`` events/s per region for ``--write`` s) until
  the gateway has applied every event; RSS of both after each phase (and beside it with no
  region, to take per-region differences);
- **hub restart**: the hub's nats-server is SIGKILLed, the regions write on for
  ``--outage`` s (into their own streams), the hub is started again on the same store;
  seconds until it is ready, all links are back, NATIONAL holds every written event and
  the gateway has applied them all;
- a check that nothing is missing or doubled (NATIONAL's count, the gateway's processed ids).

At the end, for each measure, the line ``a + b*N`` fitted by least squares over the N run
and what it predicts for 1,000 regions (a prediction, not a measurement).

Every process started is stopped by its own pid at the end (leaf servers, then the hub's
gateway and nats-server), also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import cpu_seconds, rss_mb
from bench.events import region_events
from bench.report import load
from deploy.credentials import RegionCredentials
from deploy.federation import Federation, join_hub, start_gateway
from deploy.natsconfig import HubConfig
from deploy.natsserver import NatsServer, free_port
from services.gateway import orm as gw
from shared.contracts import Envelope, encode, subject_for
from shared.messaging.inbox import processed_ids
from shared.messaging.jetstream import NATIONAL_STREAM, ensure_region_stream, source_states
from shared.storage import create_engine, session_factory

START_TIMEOUT = 180.0  # seconds for N servers to start on a loaded 2-core machine
SETTLE = 3.0  # seconds after a phase before sampling (registrar ticks, first heartbeats)


async def _quiet(exc: Exception) -> None:
    pass


async def _until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.1
) -> float:
    """Poll ``check`` until true; the monotonic time it first was. TimeoutError names ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):  # the hub restarting, a server not up yet
            if await check():
                return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g} s")
        await asyncio.sleep(interval)


def _distinct_ports(count: int) -> list[int]:
    """``count`` different free ports (held open together while the OS picks them)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


@dataclass
class Usage:
    """CPU (cores: CPU seconds per wall second) of the hub's processes over a window."""

    seconds: float
    hub_cores: float
    gateway_cores: float

    @property
    def cores(self) -> float:
        return self.hub_cores + self.gateway_cores


class CpuWindow:
    """CPU seconds of ``pids`` from construction to :meth:`end`."""

    def __init__(self, hub_pid: int, gateway_pid: int) -> None:
        self.pids = hub_pid, gateway_pid
        self.started = time.monotonic()
        self.cpu = [cpu_seconds([p]) for p in self.pids]

    def end(self) -> Usage:
        elapsed = time.monotonic() - self.started
        hub, gateway = (cpu_seconds([p]) - c for p, c in zip(self.pids, self.cpu, strict=True))
        return Usage(elapsed, hub / elapsed, gateway / elapsed)


@dataclass
class Region:
    """A regional leaf server and the writer that publishes the region's events into it."""

    region: str
    leaf: NatsServer
    envelopes: Iterator[Envelope]
    written: list[Envelope] = field(default_factory=list)
    nc: NATS | None = None
    js: JetStreamContext | None = None
    joined: dict[str, Any] = field(default_factory=dict)

    async def join(self) -> None:
        """After the leaf is up: the region's stream, the join request, the first event."""
        self.nc = await nats.connect(
            self.leaf.client_url, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            error_cb=_quiet,
        )  # fmt: skip
        self.js = self.nc.jetstream()
        await ensure_region_stream(self.js, self.region)
        self.joined = await join_hub(self.leaf.client_url, self.region, timeout=START_TIMEOUT)
        await self.write_one()

    async def write_one(self) -> None:
        assert self.js is not None
        envelope = next(self.envelopes)
        await self.js.publish(
            subject_for(envelope), encode(envelope), headers={"Nats-Msg-Id": str(envelope.event_id)}
        )
        self.written.append(envelope)

    async def write(self, rate: float, seconds: float, offset: float) -> None:
        """``rate`` events/s for ``seconds``, paced (write *i* is due at start + i/rate)."""
        start = time.monotonic() + offset
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.write_one()

    async def close(self) -> None:
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()


@dataclass
class ScaleResult:
    regions: int
    load_start: str = ""
    load_end: str = ""
    provision_s: float = 0.0  # N users at the hub, one reload
    leaves_ready_s: float = 0.0  # from starting the N leaf servers
    links_up_s: float = 0.0
    joined_s: float = 0.0
    sourcing_s: float = 0.0
    join_requests: int = 0  # joins the registrar answered (a region retries an unanswered one)
    hub_subscriptions: int = 0  # the hub's /varz subscriptions when idle
    baseline_idle: Usage | None = None  # no region yet
    baseline_rss: tuple[float, float] = (0.0, 0.0)  # hub, gateway MB with no region
    idle: Usage | None = None
    idle_rss: tuple[float, float] = (0.0, 0.0)
    leaf_rss_mean: float = 0.0
    leaf_idle_cores_mean: float = 0.0
    writing: Usage | None = None
    written_in_window: int = 0
    writing_rss: tuple[float, float] = (0.0, 0.0)
    outage_events: int = 0
    hub_ready_s: float = 0.0  # after the restart
    links_back_s: float = 0.0
    national_s: float = 0.0
    applied_s: float = 0.0
    catchup: Usage | None = None
    restart_rss: tuple[float, float] = (0.0, 0.0)
    resyncs: int = 0
    written: int = 0
    national: int = 0
    applied: int = 0
    missing: int = 0
    dead_lettered: int = 0
    pids: set[int] = field(default_factory=set)  # every process started (all stopped at the end)
    failure: str = ""  # a phase that did not finish in time, and where the events were

    @property
    def ok(self) -> bool:
        return (
            not self.failure and self.missing == 0 and self.national == self.written == self.applied
        )

    def lines(self) -> list[str]:
        n = self.regions

        def per_region(usage: Usage | None, base: Usage | None = None, than: str = "") -> str:
            if usage is None:
                return "-"
            extra = usage.cores - (base.cores if base else 0.0)
            return (
                f"hub {usage.hub_cores * 100:.1f} % + gateway {usage.gateway_cores * 100:.1f} % "
                f"of a core = {usage.cores * 1000 / n:.2f} ms CPU/s per region"
                + ("" if base is None else f" ({extra * 1000 / n:.2f} above {than})")
            )

        hub_base, gw_base = self.baseline_rss
        write_s = self.writing.seconds if self.writing else 0.0
        write_rate = self.written_in_window / write_s if write_s else 0.0
        return [
            f"N = {n} regions ({self.load_start} at start, {self.load_end} at end)",
            f"  provision: {n} region users at the hub, one reload: {self.provision_s:.2f} s",
            f"  join (from starting {n} leaf servers at once): all ready {self.leaves_ready_s:.1f}"
            f" s, all links up {self.links_up_s:.1f} s, all joins answered "
            f"{self.joined_s:.1f} s, NATIONAL sourcing all {self.sourcing_s:.1f} s; "
            f"{self.join_requests} join requests answered for {n} regions",
            f"  no region: {per_region(self.baseline_idle)}; RSS hub {hub_base:.0f} MB, "
            f"gateway {gw_base:.0f} MB",
            f"  idle: {per_region(self.idle, self.baseline_idle, 'no region')}",
            f"  RSS idle: hub {self.idle_rss[0]:.0f} MB, gateway {self.idle_rss[1]:.0f} MB "
            f"({(self.idle_rss[0] - hub_base) * 1000 / n:.0f} + "
            f"{(self.idle_rss[1] - gw_base) * 1000 / n:.0f} kB per region); a leaf server "
            f"{self.leaf_rss_mean:.0f} MB, {self.leaf_idle_cores_mean * 1000:.1f} ms CPU/s idle; "
            f"hub subscriptions {self.hub_subscriptions:,}",
            f"  writing {self.written_in_window:,} events "
            f"({write_rate:.0f}/s) until applied, {write_s:.1f} s: "
            f"{per_region(self.writing, self.idle, 'idle')}; per event "
            f"{self._per_event(self.writing, None, self.written_in_window)} µs CPU, "
            f"{self._per_event(self.writing, self.idle, self.written_in_window)} µs above idle",
            f"  RSS after writing: hub {self.writing_rss[0]:.0f} MB, gateway "
            f"{self.writing_rss[1]:.0f} MB",
            f"  hub restart (kill -9, {self.outage_events:,} events written meanwhile): ready "
            f"{self.hub_ready_s:.1f} s, links back {self.links_back_s:.1f} s, NATIONAL has all "
            f"{self.national_s:.1f} s, gateway applied all {self.applied_s:.1f} s "
            f"({self.resyncs} resyncs); {per_region(self.catchup)} meanwhile",
            f"  RSS after the restart: hub {self.restart_rss[0]:.0f} MB, gateway "
            f"{self.restart_rss[1]:.0f} MB",
            f"  check: written {self.written:,}, NATIONAL {self.national:,}, gateway applied "
            f"{self.applied:,}, missing {self.missing}, dead-lettered {self.dead_lettered}: "
            + ("OK" if self.ok else "FAILED"),
            *([f"  FAILED: {self.failure}"] if self.failure else []),
        ]

    @staticmethod
    def _per_event(usage: Usage | None, base: Usage | None, events: int) -> str:
        if usage is None or not events:
            return "-"
        cores = usage.cores - (base.cores if base else 0.0)
        return f"{cores * usage.seconds / events * 1e6:.0f}"


class Hub:
    """The hub (nats-server + gateway) as ``mgn hub up`` runs it, and what it reports."""

    def __init__(self, workdir: Path) -> None:
        self.fed = Federation(workdir)
        self.http = httpx.AsyncClient(timeout=5.0)

    async def start(self) -> None:
        fed = self.fed
        hub = await asyncio.to_thread(fed.start_hub)
        fed.gateway = start_gateway(
            fed.sup, fed.hub_dir, hub, port=free_port(), auth=fed.auth, wait=False
        )
        await asyncio.to_thread(fed.gateway.wait_healthy, START_TIMEOUT)  # slow on a busy machine
        self.nc = await nats.connect(
            self.auth.gateway_url(self.server.client_url), max_reconnect_attempts=-1,
            reconnect_time_wait=0.2, error_cb=_quiet,
        )  # fmt: skip
        self.js = self.nc.jetstream()

    @property
    def server(self) -> NatsServer:
        assert self.fed.hub is not None
        return self.fed.hub

    @property
    def auth(self) -> Any:
        assert self.fed.auth is not None
        return self.fed.auth

    @property
    def pids(self) -> tuple[int, int]:
        assert self.fed.gateway is not None
        assert self.server.pid is not None
        assert self.fed.gateway.pid is not None
        return self.server.pid, self.fed.gateway.pid

    def rss(self) -> tuple[float, float]:
        hub, gateway = self.pids
        return rss_mb([hub]), rss_mb([gateway])

    async def provision(self, regions: list[str]) -> dict[str, RegionCredentials]:
        """Every region's user and credentials (as ``mgn hub add-region``), one reload."""
        server = self.server
        creds = {r: self.auth.add_region(r, (server.leafnode_url,), server.hub_ca) for r in regions}
        before = (await asyncio.to_thread(server.monitor, "varz"))["config_load_time"]
        cfg = server.config
        assert isinstance(cfg, HubConfig)
        server.reload(replace(cfg, accounts=self.auth.accounts()))

        async def reloaded() -> bool:
            varz = await asyncio.to_thread(server.monitor, "varz")
            return bool(varz["config_load_time"] != before)

        await _until(reloaded, 30, "the hub re-reading its users")
        return creds

    async def leafnodes(self) -> int:
        return await asyncio.to_thread(self.server.leafnode_count)

    async def national(self) -> int:
        return int((await self.js.stream_info(NATIONAL_STREAM)).state.messages)

    async def gateway_health(self) -> dict[str, Any]:
        assert self.fed.gateway is not None
        resp = await self.http.get(self.fed.gateway.health_url)
        health: dict[str, Any] = resp.json()
        return health

    async def applied(self) -> int:
        """Events the gateway applied (or dead-lettered) since it started."""
        stats = (await self.gateway_health()).get("consumer") or {}
        return int(stats.get("applied", 0)) + int(stats.get("dead_lettered", 0))

    async def kill(self) -> None:
        os.kill(self.pids[0], signal.SIGKILL)

        async def dead() -> bool:
            return not self.server.running

        await _until(dead, 30, "the killed hub exiting")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.nc.close()
        await self.http.aclose()
        await asyncio.to_thread(self.fed.stop)


async def run_scale(
    workdir: Path,
    regions: int,
    *,
    rate: float = 1.0,
    write_seconds: float = 20.0,
    outage_seconds: float = 10.0,
    idle_seconds: float = 10.0,
    settle: float = SETTLE,
    timeout: float = 300.0,
) -> ScaleResult:
    """One federation of ``regions`` regions: join, idle, write, hub restart (see the module
    docstring). Every process it starts is stopped before it returns."""
    result = ScaleResult(regions, load_start=load())
    ids = [f"r{i:03d}" for i in range(regions)]
    hub = Hub(workdir / "federation")
    nodes: list[Region] = []
    try:
        await hub.start()
        result.pids.update(hub.pids)
        await asyncio.sleep(settle)
        result.baseline_rss = hub.rss()
        window = CpuWindow(*hub.pids)
        await asyncio.sleep(idle_seconds)
        result.baseline_idle = window.end()

        started = time.monotonic()
        creds = await hub.provision(ids)
        result.provision_s = time.monotonic() - started

        ports = _distinct_ports(2 * regions)
        for i, region in enumerate(ids):
            leaf = NatsServer.region(
                region, workdir / region, hub.server.leafnode_url, credentials=creds[region],
                port=ports[2 * i], http_port=ports[2 * i + 1],
            )  # fmt: skip
            leaf.ready_timeout = START_TIMEOUT
            events = region_events(region, 10**9, seed=i + 1)  # as many as it is asked for
            nodes.append(Region(region, leaf, events))
        await _join(hub, nodes, result, timeout)

        await asyncio.sleep(settle)
        leaf_pids = [n.leaf.pid for n in nodes if n.leaf.pid is not None]
        leaf_cpu = cpu_seconds(leaf_pids)
        window = CpuWindow(*hub.pids)
        await asyncio.sleep(idle_seconds)
        result.idle = window.end()
        result.leaf_idle_cores_mean = (
            (cpu_seconds(leaf_pids) - leaf_cpu) / result.idle.seconds / len(leaf_pids)
        )
        result.idle_rss = hub.rss()
        varz = await asyncio.to_thread(hub.server.monitor, "varz")
        result.hub_subscriptions = int(varz.get("subscriptions", 0))
        registrar = (await hub.gateway_health()).get("registrar") or {}
        result.join_requests = int(registrar.get("joins", 0))
        result.leaf_rss_mean = rss_mb(leaf_pids) / len(leaf_pids)

        before = sum(len(n.written) for n in nodes)
        window = CpuWindow(*hub.pids)
        await _write_all(nodes, rate, write_seconds)
        total = sum(len(n.written) for n in nodes)
        result.written_in_window = total - before
        await _until(lambda: _at_least(hub.applied, total), timeout, "gateway applying writes")
        result.writing = window.end()
        result.writing_rss = hub.rss()

        await _restart(hub, nodes, result, rate, outage_seconds, timeout)
        await _check(hub, nodes, result, settle)
    except TimeoutError as exc:  # say where the events are, then stop this N's processes
        result.failure = f"{exc}; {await _whereabouts(hub, nodes)}"
    finally:
        result.pids.update(n.leaf.pid for n in nodes if n.leaf.pid is not None)
        with contextlib.suppress(AssertionError):  # the hub's current pids, if it started
            result.pids.update(hub.pids)
        for node in nodes:
            await node.close()
        await asyncio.gather(
            *(node.leaf.astop() for node in nodes), return_exceptions=True
        )  # each by its own pid
        await hub.close()
    result.load_end = load()
    return result


async def _at_least(count: Callable[[], Awaitable[int]], wanted: int) -> bool:
    return await count() >= wanted


async def _join(hub: Hub, nodes: list[Region], result: ScaleResult, timeout: float) -> None:
    """Start every leaf server at once; time readiness, links, joins and sourcing."""
    n = len(nodes)
    started = time.monotonic()
    ready: list[float] = []

    async def one(node: Region) -> float:
        await node.leaf.astart()
        ready.append(time.monotonic())
        await node.join()
        return time.monotonic()

    async def links() -> float:
        return await _until(lambda: _at_least(hub.leafnodes, n), timeout, f"{n} leaf links")

    async def sourcing() -> float:
        async def all_sourced() -> bool:
            states = await source_states(hub.js)
            live = [s for s in states.values() if s.active is not None and not s.error]
            return len(live) == n and await hub.national() >= n

        return await _until(all_sourced, timeout, f"NATIONAL sourcing {n} regions", 0.25)

    link_task = asyncio.create_task(links())
    source_task = asyncio.create_task(sourcing())
    try:
        joined = await asyncio.gather(*(one(node) for node in nodes))
        result.leaves_ready_s = max(ready) - started
        result.joined_s = max(joined) - started
        result.links_up_s = await link_task - started
        result.sourcing_s = await source_task - started
    finally:
        for task in (link_task, source_task):
            task.cancel()
    failed = [node.region for node in nodes if "error" in node.joined or not node.joined]
    if failed:
        raise RuntimeError(f"joins not accepted by the registrar: {failed}")


async def _write_all(nodes: list[Region], rate: float, seconds: float) -> None:
    n = len(nodes)  # spread the regions' writes over the first 1/rate seconds
    await asyncio.gather(
        *(node.write(rate, seconds, offset=i / (n * rate)) for i, node in enumerate(nodes))
    )


async def _restart(
    hub: Hub,
    nodes: list[Region],
    result: ScaleResult,
    rate: float,
    outage_seconds: float,
    timeout: float,
) -> None:
    """Kill the hub's nats-server, write on for ``outage_seconds``, start it again: time
    until it is ready, the links are back, NATIONAL has everything, the gateway applied it."""
    resyncs_before = int(((await hub.gateway_health()).get("registrar") or {}).get("resyncs", 0))
    before = sum(len(n.written) for n in nodes)
    await hub.kill()
    await _write_all(nodes, rate, outage_seconds)
    total = sum(len(n.written) for n in nodes)
    result.outage_events = total - before
    started = time.monotonic()
    hub.server.ready_timeout = START_TIMEOUT
    await hub.server.astart()
    window = CpuWindow(*hub.pids)
    result.hub_ready_s = time.monotonic() - started
    n = len(nodes)
    links = await _until(lambda: _at_least(hub.leafnodes, n), timeout, f"{n} links after restart")
    result.links_back_s = links - started
    national = await _until(
        lambda: _at_least(hub.national, total), timeout, "NATIONAL catching up", 0.2
    )
    result.national_s = national - started
    applied = await _until(lambda: _at_least(hub.applied, total), timeout, "gateway catching up")
    result.applied_s = applied - started
    result.catchup = window.end()
    result.restart_rss = hub.rss()
    registrar = (await hub.gateway_health()).get("registrar") or {}
    result.resyncs = int(registrar.get("resyncs", 0)) - resyncs_before


async def _whereabouts(hub: Hub, nodes: list[Region]) -> str:
    """Where the written events are: NATIONAL's count, the gateway's, the sources' state."""
    written = sum(len(n.written) for n in nodes)
    try:
        national = await hub.national()
        states = await source_states(hub.js)
        applied = await hub.applied()
    except Exception as exc:
        return f"written {written:,}; the hub does not answer ({exc!r})"
    lagging = sorted(r for r, s in states.items() if s.lag)
    silent = sorted(r for r, s in states.items() if s.active is None or s.active > 5)
    errors = sorted({s.error for s in states.values() if s.error})
    leafs = await hub.leafnodes()
    return (
        f"written {written:,}, NATIONAL {national:,}, gateway applied {applied:,}; "
        f"{len(states)} sources, {leafs} leaf links; lagging {len(lagging)} {lagging[:10]}, "
        f"silent > 5 s {len(silent)} {silent[:10]}, errors {errors[:3]}"
    )


async def _check(hub: Hub, nodes: list[Region], result: ScaleResult, settle: float) -> None:
    """NATIONAL holds each written event once; the gateway applied each (its processed ids)."""
    await asyncio.sleep(settle)  # a duplicate copy, were there one, would arrive by now
    written = [e for node in nodes for e in node.written]
    result.written = len(written)
    result.national = await hub.national()
    stats = (await hub.gateway_health()).get("consumer") or {}
    result.dead_lettered = int(stats.get("dead_lettered", 0))
    engine = create_engine(f"sqlite:///{hub.fed.hub_dir / 'gateway.db'}", sqlite_immediate=False)
    try:
        async with session_factory(engine)() as session:
            applied = await processed_ids(session, gw.TABLES, written)
    finally:
        await engine.dispose()
    result.applied = len(applied)
    result.missing = len(written) - len(applied)


# -- the curve -----------------------------------------------------------------------------


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares line ``a + b*x`` through ``points`` (at least two distinct x)."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        raise ValueError("a line needs at least two different numbers of regions")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    return mean_y - slope * mean_x, slope


MEASURES: dict[str, Callable[[ScaleResult], float]] = {
    "all joined and sourced, s": lambda r: r.sourcing_s,
    "hub nats-server RSS idle, MB": lambda r: r.idle_rss[0],
    "gateway RSS idle, MB": lambda r: r.idle_rss[1],
    "hub + gateway CPU idle, % of a core": lambda r: (r.idle.cores if r.idle else 0) * 100,
    "hub + gateway CPU writing, % of a core": lambda r: (r.writing.cores if r.writing else 0) * 100,
    "after hub restart: NATIONAL has all, s": lambda r: r.national_s,
    "after hub restart: gateway applied all, s": lambda r: r.applied_s,
}


def predictions(results: list[ScaleResult], at: int = 1000) -> list[str]:
    if len({r.regions for r in results}) < 2:
        return []
    lines = [
        f"fitted a + b*N over N = {', '.join(str(r.regions) for r in results)}; at N = {at:,}:"
    ]
    for name, measure in MEASURES.items():
        points = [(float(r.regions), measure(r)) for r in results]
        a, b = fit(points)
        lines.append(
            f"  {name:<44} {a:9.2f} + {b:8.4f}*N -> predicts {a + b * at:10.1f}"
            f"   (grows as N^{growth(points):.2f} between the two largest N)"
        )
    return lines


def growth(points: list[tuple[float, float]]) -> float:
    """The exponent k of y ~ N^k between the two largest N: 1 is linear, 2 quadratic (a
    straight line through points with k > 1 under-predicts); NaN if it cannot be told."""
    (x1, y1), (x2, y2) = sorted(points)[-2:]
    if x1 <= 0 or x1 == x2 or y1 <= 0 or y2 <= 0:
        return math.nan
    return math.log(y2 / y1) / math.log(x2 / x1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", default="10,50,100", help="comma list of N (%(default)s)")
    parser.add_argument("--rate", type=float, default=1.0, help="events/s per region (%(default)s)")
    parser.add_argument(
        "--write", type=float, default=20.0, help="seconds of writing (%(default)s)"
    )
    parser.add_argument(
        "--outage", type=float, default=10.0, help="seconds the hub is down (%(default)s)"
    )
    parser.add_argument("--idle", type=float, default=10.0, help="idle window, s (%(default)s)")
    parser.add_argument("--workdir", type=Path, help="keep the servers' data and logs here")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.regions.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--regions {args.regions!r}: expected numbers, e.g. 10,50,100")
    if not counts or min(counts) < 1 or max(counts) > 999:
        parser.error("--regions: each N must be 1..999 (region ids r000..r998)")
    if args.rate <= 0 or args.write <= 0 or args.outage <= 0 or args.idle <= 0:
        parser.error("--rate, --write, --outage and --idle must be positive")
    results = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="mgn-fedscale-") as tmp:
        base = args.workdir or Path(tmp)
        print(f"work directory {base}; {args.rate:g} events/s per region", flush=True)
        for n in counts:
            result = asyncio.run(
                run_scale(
                    base / f"n{n}", n, rate=args.rate, write_seconds=args.write,
                    outage_seconds=args.outage, idle_seconds=args.idle,
                )
            )  # fmt: skip
            ok = ok and result.ok
            print("\n".join(result.lines()), flush=True)
            if not result.failure:
                results.append(result)  # a failed N is left out of the fitted line
    for line in predictions(results):
        print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
