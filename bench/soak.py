"""Soak: a federation (hub nats-server, gateway, one region: leaf server, services, console;
``Federation`` as in ``mgn demo``, restarted by its supervisor) under steady writes through
the region's groups API, with random faults, then a check that nothing was lost or doubled.

Faults (one at a time, at random intervals):

- ``kill hub``: SIGKILL of the hub's nats-server (the supervisor starts it again);
- ``kill gateway``: SIGKILL of the gateway;
- ``kill <service>``: SIGKILL of a regional service (groups, meetings or feedback);
- ``pause leaf``: the region's leaf server stopped (SIGSTOP) for a few seconds, then SIGCONT;
- ``cut link``: the region's leaf link to the hub runs through a TCP proxy here; the proxy
  drops every connection and refuses new ones for a few seconds.

Every kind comes once, in random order, before any comes again.

At the end, after waiting for catch-up: the event ids in the regional outboxes must equal
the ids the gateway applied (``processed_ids``: its marks and ``processed_events``), the
gateway must hold no processed id the region did not write, and its read model exactly one
member per ``MemberJoined`` written. Exit code 1 on a mismatch.

    python -m bench.soak --minutes 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from deploy.federation import REGIONAL_SERVICES, Federation, RegionNode, join_hub, start_region
from deploy.natsconfig import HubConfig
from deploy.natsserver import free_port
from deploy.supervisor import RestartPolicy
from services.feedback.orm import TABLES as FEEDBACK_TABLES
from services.gateway import orm as gw
from services.groups.orm import TABLES as GROUPS_TABLES
from services.meetings.orm import TABLES as MEETINGS_TABLES
from shared.contracts import Envelope, MemberJoined
from shared.contracts.codec import decode_envelope
from shared.messaging.inbox import processed_ids
from shared.storage import create_engine, session_factory

REGION = "soak"
OUTBOXES = {"groups": GROUPS_TABLES, "meetings": MEETINGS_TABLES, "feedback": FEEDBACK_TABLES}
MEMBERS_PER_GROUP = 15
CATCH_UP_TIMEOUT = 180.0  # seconds after the last write for every event to be applied
FAULT_GAP = (4.0, 12.0)  # seconds between faults (uniform)
FAULT_KINDS = ("kill hub", "kill gateway", "kill service", "pause leaf", "cut link")
OUTAGE = (2.0, 8.0)  # seconds a leaf stays paused or the link cut (uniform)

CREATE_GROUP = 'mutation { createGroup(input: {name: "soak", foundedOn: "2015-01-01"}) { id } }'
ADD_MEMBER = "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }"


class CuttableProxy:
    """A TCP proxy on a free local port to ``target_port`` that can be cut (every connection
    dropped, new ones refused) and restored on the same port."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()


@dataclass
class SoakResult:
    minutes: float
    faults: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds in, kind, what)
    writes_ok: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # why writes got no answer
    written: int = 0  # events in the regional outboxes
    applied: int = 0  # of those, applied by the gateway
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # applied, never written
    members_written: int = 0
    members_national: int = 0
    catch_up_seconds: float = 0.0
    restarts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            not self.missing
            and not self.unknown
            and self.written == self.applied
            and self.members_written == self.members_national
        )

    def lines(self) -> list[str]:
        kinds = Counter(kind for _, kind, _ in self.faults)
        out = [f"soak {self.minutes:g} min: {len(self.faults)} faults injected"]
        out += [f"  {at:7.1f} s  {what}" for at, _, what in self.faults]
        out.append("  by kind: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
        out.append("  supervisor restarts: " + ", ".join(
            f"{k} {n}" for k, n in sorted(self.restarts.items()) if n))  # fmt: skip
        failed = sum(self.failures.values())
        out.append(f"writes answered {self.writes_ok}, failed (no answer) {failed}")
        out += [f"  {n} x {why}" for why, n in self.failures.most_common(5)]
        out.append(
            f"events written in the region {self.written}, applied nationally {self.applied}, "
            f"missing {len(self.missing)}, unknown {len(self.unknown)}; members written "
            f"{self.members_written}, national {self.members_national}; caught up in "
            f"{self.catch_up_seconds:.1f} s"
        )
        if self.missing:
            out.append(f"  missing e.g. {self.missing[:5]}")
        if self.unknown:
            out.append(f"  unknown e.g. {self.unknown[:5]}")
        out.append("RESULT: " + ("OK, nothing lost or doubled" if self.ok else "MISMATCH"))
        return out


async def _setup(fed: Federation, proxy_holder: list[CuttableProxy]) -> RegionNode:
    # Deliberate kills are not a crash loop: let the supervisor restart them all.
    fed.sup.policy = RestartPolicy(max_crashes=10_000, max_delay=4.0)
    hub = await asyncio.to_thread(fed.start_hub)
    await asyncio.to_thread(fed.start_gateway, free_port(), f"sqlite:///{fed.workdir / 'gw.db'}")
    if not isinstance(hub.config, HubConfig) or hub.config.leaf_port is None:
        raise RuntimeError("the hub has no leafnode port")
    proxy = CuttableProxy(hub.config.leaf_port)
    await proxy.start()
    proxy_holder.append(proxy)
    creds = await asyncio.to_thread(fed.add_region, REGION)
    node = await asyncio.to_thread(
        start_region,
        fed.sup,
        REGION,
        fed.workdir / REGION,
        f"nats-leaf://127.0.0.1:{proxy.port}",
        credentials=creds,
        mail_dir=fed.workdir / REGION / "mail",
    )
    fed.regions[REGION] = node
    await join_hub(node.leaf.client_url, REGION, timeout=60)
    return node


def _db(node_dir: Path, service: str) -> str:
    return f"sqlite:///{node_dir / f'{service}.db'}"


async def _supervise(fed: Federation, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.to_thread(fed.sup.check, lambda _msg: None)
        await asyncio.sleep(0.25)


async def _write(node: RegionNode, stop: asyncio.Event, rate: float, result: SoakResult) -> None:
    url = node.graphql_url("groups")
    limits = httpx.Limits(keepalive_expiry=2)
    async with httpx.AsyncClient(timeout=10, limits=limits, headers=node.api_headers()) as http:
        group_id: str | None = None
        in_group = 0
        i = 0
        response = httpx.Response(0)
        next_at = time.monotonic()
        while not stop.is_set():
            next_at += 1.0 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            try:
                if group_id is None or in_group >= MEMBERS_PER_GROUP:
                    response = await http.post(url, json={"query": CREATE_GROUP})
                    body = response.json()
                    group_id, in_group = body["data"]["createGroup"]["id"], 0
                variables = {
                    "i": {
                        "groupId": group_id,
                        "companyName": f"Company {i}",
                        "employees": i % 10,
                        "turnoverEur": 100_000,
                        "joinedOn": "2016-01-01",
                    }
                }
                response = await http.post(url, json={"query": ADD_MEMBER, "variables": variables})
                body = response.json()
                body["data"]["addMember"]["id"]
                result.writes_ok += 1
                in_group += 1
            except httpx.HTTPError as exc:  # the service is down or restarting: go on
                result.failures[type(exc).__name__] += 1
            except (ValueError, KeyError, TypeError):
                result.failures[f"answer {response.status_code}: {response.text[:120]}"] += 1
            i += 1


async def _faults(
    fed: Federation,
    node: RegionNode,
    proxy: CuttableProxy,
    stop: asyncio.Event,
    rng: random.Random,
    result: SoakResult,
    started: float,
    gaps: tuple[float, float],
) -> None:
    bag: list[str] = []  # every kind once, in random order, before any repeats
    while True:
        if not bag:
            bag = list(FAULT_KINDS)
            rng.shuffle(bag)
        gap = rng.uniform(*gaps)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=gap)
            return
        kind = bag.pop()
        outage = rng.uniform(*OUTAGE)
        at = time.monotonic() - started
        if kind == "kill hub" and fed.hub is not None and fed.hub.pid:
            _kill(fed.hub.pid)
            result.faults.append((at, kind, kind))
        elif kind == "kill gateway" and fed.gateway is not None and fed.gateway.pid:
            _kill(fed.gateway.pid)
            result.faults.append((at, kind, kind))
        elif kind == "kill service":
            service = rng.choice(REGIONAL_SERVICES)
            pid = node.services[service].pid
            if pid:
                _kill(pid)
                result.faults.append((at, kind, f"kill {service}"))
        elif kind == "pause leaf" and node.leaf.pid:
            pid = node.leaf.pid
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(outage)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
            result.faults.append((at, kind, f"pause leaf {outage:.1f} s"))
        elif kind == "cut link":
            await proxy.cut()
            try:
                await asyncio.sleep(outage)
            finally:
                await proxy.start()
            result.faults.append((at, kind, f"cut link {outage:.1f} s"))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


async def _written(node_dir: Path) -> list[Envelope]:
    envelopes: list[Envelope] = []
    for service, tables in OUTBOXES.items():
        engine = create_engine(_db(node_dir, service), sqlite_immediate=False)
        try:
            async with session_factory(engine)() as session:
                bodies = (await session.execute(select(tables.outbox.c.body))).scalars()
                envelopes += [decode_envelope(body) for body in bodies]
        finally:
            await engine.dispose()
    return envelopes


async def _compare(fed: Federation, result: SoakResult) -> bool:
    """Fill ``result`` from the databases; True when every written event is applied."""
    envelopes = await _written(fed.workdir / REGION)
    engine = create_engine(f"sqlite:///{fed.workdir / 'gw.db'}", sqlite_immediate=False)
    try:
        async with session_factory(engine)() as session:
            applied = await processed_ids(session, gw.TABLES, envelopes)
            recorded = set(
                (await session.execute(select(gw.TABLES.processed.c.event_id))).scalars()
            )
            national = int(
                (
                    await session.execute(
                        select(func.count())
                        .select_from(gw.members)
                        .where(gw.members.c.region == REGION)
                    )
                ).scalar_one()
            )
    finally:
        await engine.dispose()
    written = {str(e.event_id) for e in envelopes}
    result.written = len(envelopes)
    result.applied = len(applied)
    result.missing = sorted(written - applied)
    result.unknown = sorted(recorded - written)
    result.members_written = sum(1 for e in envelopes if e.type == MemberJoined.TYPE)
    result.members_national = national
    return not result.missing and result.members_written == national


async def soak(
    workdir: Path,
    minutes: float,
    rate: float,
    seed: int,
    gaps: tuple[float, float] = FAULT_GAP,
) -> SoakResult:
    """Run it (``gaps``: the least and most seconds between faults)."""
    fed = Federation(workdir / "federation")
    result = SoakResult(minutes)
    rng = random.Random(seed)
    proxies: list[CuttableProxy] = []
    try:
        node = await _setup(fed, proxies)
        done = asyncio.Event()
        supervise_stop = asyncio.Event()
        supervisor = asyncio.create_task(_supervise(fed, supervise_stop))
        started = time.monotonic()
        tasks = [
            asyncio.create_task(_write(node, done, rate, result)),
            asyncio.create_task(_faults(fed, node, proxies[0], done, rng, result, started, gaps)),
        ]
        await asyncio.sleep(minutes * 60)
        done.set()
        await asyncio.gather(*tasks)
        caught_up = time.monotonic()
        deadline = caught_up + CATCH_UP_TIMEOUT
        while True:
            if await _compare(fed, result) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        result.catch_up_seconds = time.monotonic() - caught_up
        supervise_stop.set()
        await supervisor
        result.restarts = {c["name"]: int(c.get("restarts", 0)) for c in fed.sup.children()}
    finally:
        await asyncio.to_thread(fed.stop)
        for proxy in proxies:
            await proxy.cut()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="addMember writes per second")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    with tempfile.TemporaryDirectory(prefix="mgn-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        result = asyncio.run(soak(workdir, args.minutes, args.rate, seed))
    print(f"seed {seed}, {args.rate:g} writes/s")
    for line in result.lines():
        print(line)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
