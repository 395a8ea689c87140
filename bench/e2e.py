"""End to end through real processes: hub and leaf nats-servers, the region's groups,
meetings and feedback services and the gateway, each its own process (``Federation``, as in
``mgn demo``). Regional writes (``addMember`` over the groups GraphQL API) until each is
visible in the national read model.

Per run: offered, issued and achieved writes/s; API write latency (send to response);
write-to-visible latency (from the moment the write was due, so queueing counts) and
commit-to-visible (response to visible); the relay delay (outbox row committed to marked
published, read from the groups database); CPU per write over all federation processes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.cpu import cpu_seconds, own_cpu_seconds
from bench.databases import PREFIX, create_postgres_database
from bench.national import (
    applied_at,
    arrivals,
    caught_up,
    gateway_counts,
    hub_jetstream,
    last_seq,
)
from bench.pacer import run_paced
from bench.report import percentile
from deploy.federation import CONSOLE, REGIONAL_SERVICES, Federation, RegionNode
from deploy.natsserver import free_port
from services.gateway.consumer import DURABLE
from services.gateway.orm import members
from services.gateway.settings import GatewaySettings
from services.groups.orm import TABLES as GROUPS_TABLES
from shared.messaging.jetstream import NATIONAL_STREAM
from shared.storage import create_engine, session_factory

REGION = "bench"
MEMBERS_PER_GROUP = 15  # a core group is a dozen or so companies
VISIBLE_TIMEOUT = 120.0  # seconds after the last write before a run is called stuck
POLL_SECONDS = 0.02  # how often the read model is asked (the resolution of "visible")
IDLE_SECONDS = 5.0  # the gateway's CPU with nothing to do, measured before each run

ADD_MEMBER = "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }"
CREATE_GROUP = 'mutation { createGroup(input: {name: "bench", foundedOn: "2015-01-01"}) { id } }'


class NotVisibleError(RuntimeError):
    """Writes that did not reach the national read model in time (with where they are)."""


@dataclass
class E2EFederation:
    federation: Federation
    node: RegionNode
    gateway_db: str
    groups_db: str

    @property
    def groups_url(self) -> str:
        return self.node.graphql_url("groups")

    def pids(self) -> list[int]:
        return self.federation.running_pids()

    def processes(self) -> dict[str, int]:
        """Process name -> pid: the NATS servers, each regional service, the gateway."""
        named: dict[str, int | None] = {"nats hub": None, "nats leaf": self.node.leaf.pid}
        if self.federation.hub is not None:
            named["nats hub"] = self.federation.hub.pid
        if self.federation.gateway is not None:
            named["gateway"] = self.federation.gateway.pid
        for service, process in self.node.services.items():
            named[service] = process.pid
        named[CONSOLE] = self.node.console.pid
        return {name: pid for name, pid in named.items() if pid is not None}

    def stop(self) -> None:
        self.federation.stop()


def start_federation(kind: str, workdir: Path, admin_url: str) -> E2EFederation:
    federation = Federation(workdir / f"federation-{kind}")
    try:
        federation.start_hub()
        if kind == "sqlite":
            gateway_db = f"sqlite:///{federation.workdir / 'gateway.db'}"
            template = None
            groups_db = f"sqlite:///{federation.workdir / REGION / 'groups.db'}"
        else:
            gateway_db = asyncio.run(create_postgres_database(admin_url, "e2e_gateway"))
            for service in (*REGIONAL_SERVICES, CONSOLE):
                asyncio.run(create_postgres_database(admin_url, f"e2e_{service}"))
            template = admin_url.rsplit("/", 1)[0] + f"/{PREFIX}e2e_{{service}}"
            groups_db = template.format(service="groups")
        federation.start_gateway(free_port(), gateway_db)
        node = federation.start_region(REGION, template)
    except BaseException:
        federation.stop()
        raise
    return E2EFederation(federation, node, gateway_db, groups_db)


async def _create_groups(http: httpx.AsyncClient, url: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        body = (await http.post(url, json={"query": CREATE_GROUP})).json()
        if "errors" in body:
            raise RuntimeError(f"createGroup failed: {body['errors']}")
        ids.append(body["data"]["createGroup"]["id"])
    return ids


async def _relay_delays(groups_db: str, since: datetime) -> list[float]:
    """Seconds from outbox commit to marked published, for rows created since ``since``."""
    engine = create_engine(groups_db, sqlite_immediate=False)
    outbox = GROUPS_TABLES.outbox
    try:
        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(outbox.c.created_at, outbox.c.published_at).where(
                        outbox.c.created_at >= since, outbox.c.published_at.is_not(None)
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    return [(_aware(published) - _aware(created)).total_seconds() for created, published in rows]


async def _national_state(fed: E2EFederation) -> str:
    """Where the missing events are: NATIONAL's count and source lag, the gateway's consumer."""
    hub, auth = fed.federation.hub, fed.federation.auth
    if hub is None:
        return "no hub"
    url = auth.gateway_url(hub.client_url) if auth else hub.client_url
    try:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:
        return f"hub unreachable: {exc!r}"
    try:
        js = nc.jetstream(domain=GatewaySettings().jetstream_domain or None)
        info = await js.stream_info(NATIONAL_STREAM)
        lags = ", ".join(f"{s.name} lag {s.lag}" for s in info.sources or [])
        consumer = await js.consumer_info(NATIONAL_STREAM, DURABLE)
        return (
            f"NATIONAL holds {info.state.messages} ({lags}); consumer {DURABLE}: delivered "
            f"{consumer.delivered.stream_seq}, pending {consumer.num_pending}, "
            f"ack pending {consumer.num_ack_pending}, waiting pulls {consumer.num_waiting}"
        )
    except Exception as exc:
        return f"cannot read NATIONAL's state: {exc!r}"
    finally:
        await nc.close()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Watcher:
    """Polls the gateway's read model for written members; records when each appeared.

    It asks only about the groups that still have members in flight (writes fill one group
    after another), so a poll stays cheap while the pipeline keeps up.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)
        self.pending: dict[str, str] = {}  # member id -> group id
        self.visible: dict[str, float] = {}
        self.visible_wall: dict[str, float] = {}  # the same moments, epoch seconds
        self.expected = 0  # writes that succeeded or are still in flight

    async def run(self, expected: int) -> None:
        self.expected = expected
        while len(self.visible) < self.expected:
            groups = list(set(self.pending.values()))
            if groups:
                async with self._sessions() as session:
                    for start in range(0, len(groups), 200):
                        found = (
                            await session.execute(
                                select(members.c.id).where(
                                    members.c.group_id.in_(groups[start : start + 200])
                                )
                            )
                        ).scalars()
                        now, wall = time.perf_counter(), time.time()
                        for member_id in found:
                            if self.pending.pop(member_id, None) is not None:
                                self.visible[member_id] = now
                                self.visible_wall[member_id] = wall
            await asyncio.sleep(POLL_SECONDS)


async def measure(
    fed: E2EFederation, writes: int, rate: float | None, concurrency: int
) -> dict[str, float]:
    gateway = create_engine(fed.gateway_db, sqlite_immediate=False)
    due_at: dict[str, float] = {}
    sent_at: dict[str, float] = {}
    answered_at: dict[str, float] = {}
    watcher = _Watcher(gateway)
    failed: list[str] = []  # writes whose connection broke (no answer: not counted)
    # Fewer connections than writes in flight (the rest queue here, counted from their due
    # time); idle ones dropped before uvicorn's 5 s keep-alive closes them under a request.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2)
    try:
        async with httpx.AsyncClient(
            timeout=60, limits=limits, headers=fed.node.api_headers()
        ) as http:
            groups = await _create_groups(
                http, fed.groups_url, max(1, -(-writes // MEMBERS_PER_GROUP))
            )

            async def write(i: int, due: float) -> None:
                sent = time.perf_counter()
                group_id = groups[min(i // MEMBERS_PER_GROUP, len(groups) - 1)]
                variables = {
                    "i": {
                        "groupId": group_id,
                        "companyName": f"Company {i}",
                        "employees": i % 10,
                        "turnoverEur": 100_000,
                        "joinedOn": "2016-01-01",
                    }
                }
                try:
                    response = await http.post(
                        fed.groups_url, json={"query": ADD_MEMBER, "variables": variables}
                    )
                except httpx.TransportError as exc:  # e.g. the server closed the connection
                    failed.append(f"{type(exc).__name__}: {exc}")
                    watcher.expected -= 1
                    return
                body = response.json()
                if "errors" in body or response.status_code != 200:
                    raise RuntimeError(f"addMember failed ({response.status_code}): {body}")
                member_id = body["data"]["addMember"]["id"]
                answered_at[member_id] = time.perf_counter()
                sent_at[member_id] = sent
                due_at[member_id] = due
                watcher.pending[member_id] = group_id

            since = datetime.now(UTC)
            processes = fed.processes()
            async with hub_jetstream(fed.federation) as js:
                # The groups' events applied, then the gateway's CPU doing nothing.
                await caught_up(js)
                idle_before = cpu_seconds([processes["gateway"]])
                await asyncio.sleep(IDLE_SECONDS)
                idle = cpu_seconds([processes["gateway"]]) - idle_before
                seq_before, counts_before = await last_seq(js), gateway_counts(fed.federation)
                cpu_before = {name: cpu_seconds([pid]) for name, pid in processes.items()}
                client_before = own_cpu_seconds()
                watch = asyncio.create_task(watcher.run(writes))
                run = await run_paced(writes, write, rate=rate, concurrency=concurrency)
                try:
                    await asyncio.wait_for(watch, timeout=VISIBLE_TIMEOUT)
                except TimeoutError:
                    raise NotVisibleError(
                        f"{len(watcher.pending)} of {writes} writes not visible nationally "
                        f"{VISIBLE_TIMEOUT:g} s after the last write; "
                        f"{await _national_state(fed)}"
                    ) from None
                await caught_up(js)  # every event of the run applied, not only the members
                cpu_used = {
                    name: cpu_seconds([pid]) - cpu_before[name] for name, pid in processes.items()
                }
                client_used = own_cpu_seconds() - client_before
                window = time.perf_counter() - run.started
                seq_after, counts_after = await last_seq(js), gateway_counts(fed.federation)
                arrived = await arrivals(js, seq_before + 1, seq_after)
            applied = await applied_at(gateway, arrived)
    finally:
        await gateway.dispose()
    relay = await _relay_delays(fed.groups_db, since)
    done = max(1, writes - len(failed))  # CPU per write: per write that was made
    ids = list(answered_at)
    write_ms = [1000 * (answered_at[m] - sent_at[m]) for m in ids]
    visible_ms = [1000 * (watcher.visible[m] - due_at[m]) for m in ids]
    commit_ms = [1000 * (watcher.visible[m] - answered_at[m]) for m in ids]
    relay_ms = [1000 * d for d in relay]
    all_visible = max(watcher.visible.values()) - run.started
    events = seq_after - seq_before  # what NATIONAL received during the run
    batches = counts_after.batches - counts_before.batches
    fresh_ms = [
        1000 * (watcher.visible_wall[m] - arrived.members[m]) for m in ids if m in arrived.members
    ]
    applied_ms = [1000 * (applied[e] - at) for e, at in arrived.events.items() if e in applied]
    return {
        "offered/s": rate or 0.0,
        "issued/s": run.issued_rate,
        "completed/s": run.completed_rate,
        "visible/s": writes / all_visible,
        "late starts": float(run.late_starts),
        "failed writes": float(len(failed)),
        "write p50 ms": percentile(write_ms, 0.5),
        "write p99 ms": percentile(write_ms, 0.99),
        "visible p50 ms": percentile(visible_ms, 0.5),
        "visible p99 ms": percentile(visible_ms, 0.99),
        "visible max ms": max(visible_ms),
        "commit p99 ms": percentile(commit_ms, 0.99),
        "relay p50 ms": percentile(relay_ms, 0.5),
        "relay p99 ms": percentile(relay_ms, 0.99),
        "cpu ms/write": 1000 * sum(cpu_used.values()) / done,
        **{f"cpu ms/write {name}": 1000 * used / done for name, used in cpu_used.items()},
        "client cpu ms/write": 1000 * client_used / done,  # this benchmark process
        # the gateway's live cost: per NATIONAL event, and arrival in NATIONAL -> visible
        "national events": float(events),
        "gateway batches": float(batches),
        "gateway cpu ms/event": 1000 * cpu_used["gateway"] / max(events, 1),
        "gateway idle ms/s": 1000 * idle / IDLE_SECONDS,
        "gateway idle share": idle / IDLE_SECONDS * window / max(cpu_used["gateway"], 1e-9),
        "fresh p50 ms": percentile(fresh_ms, 0.5),
        "fresh p99 ms": percentile(fresh_ms, 0.99),
        "fresh max ms": max(fresh_ms, default=float("nan")),
        "fresh n": float(len(fresh_ms)),
        "applied p50 ms": percentile(applied_ms, 0.5),
        "applied p99 ms": percentile(applied_ms, 0.99),
        "applied n": float(len(applied_ms)),
    }
