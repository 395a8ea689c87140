"""Health and metrics against real servers (issue 10, parts 3 and 6).

- A region's leaf server stopped (SIGSTOP: the socket stays open) makes its service report
  ``nats_connected=False`` within seconds, and True again once it runs (SIGCONT).
- A service's /metrics move as events flow: relay publishes, outbox backlog and its age,
  publish failures while the leaf server is stopped, HTTP latency by route.
- The gateway's /metrics count applied events and the consumer's lag.
- /metrics answers loopback callers, or others with MGN_METRICS_TOKEN; nobody else.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from contextlib import asynccontextmanager
from datetime import date

import httpx
import pytest
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamSource

from deploy.natsserver import NatsServer
from services.gateway.app import build as build_gateway
from services.gateway.settings import GatewaySettings
from services.groups.app import build as build_groups
from services.groups.settings import GroupsSettings
from shared.contracts import GroupCreated, encode, make_envelope, subject_for
from shared.messaging.jetstream import NATIONAL_STREAM
from tests.fixtures.credentials import headers_for
from tests.fixtures.db import DatabaseMaker
from tests.fixtures.nats import LeafFactory, NatsConnect, wait_for

pytestmark = pytest.mark.nats

CREATE = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in Prometheus' text format (None if absent)."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


@asynccontextmanager
async def serving(app, client: tuple[str, int] = ("127.0.0.1", 50000)):  # type: ignore[no-untyped-def]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://svc", headers=headers_for(app)
        ) as http:
            yield http


@pytest.fixture
async def groups(
    leaf_factory: LeafFactory, make_database_url: DatabaseMaker
) -> tuple[NatsServer, object]:
    leaf = await leaf_factory("oulu")
    settings = GroupsSettings(
        region="oulu", database_url=await make_database_url("groups"), nats_url=leaf.client_url
    )
    return leaf, build_groups(settings)


async def create_group(http: httpx.AsyncClient) -> None:
    name = f"Ryhmä {uuid.uuid4().hex[:6]}"
    body = (
        await http.post(
            "/graphql",
            json={
                "query": CREATE,
                "variables": {
                    "i": {"name": name, "municipality": "Oulu", "foundedOn": "2020-01-01"}
                },
            },
        )
    ).json()
    assert not body.get("errors"), body


async def test_a_stopped_leaf_server_is_not_connected_within_seconds_and_metrics_move(
    groups: tuple[NatsServer, object],
) -> None:
    leaf, service = groups
    app = service.app  # type: ignore[attr-defined]
    async with serving(app) as http:
        await wait_for(
            lambda: _health(http, "nats_connected"), timeout=15, message="connected at start"
        )
        await create_group(http)

        async def published() -> str | None:
            text = (await http.get("/metrics")).text
            sent = (sample(text, "mgn_relay_published_total") or 0) >= 2  # announce + group
            return text if sent and sample(text, "mgn_outbox_pending") == 0 else None

        text = await wait_for(published, timeout=15, message="the events published")
        assert sample(text, "mgn_outbox_pending", service="groups", region="oulu") == 0
        assert sample(text, "mgn_outbox_oldest_age_seconds") == 0
        assert sample(text, "mgn_nats_connected") == 1
        assert (
            sample(
                text,
                "mgn_http_request_duration_seconds_count",
                route="/graphql",
                method="POST",
                status="200",
            )
            or 0
        ) >= 1
        assert sample(text, "mgn_relay_publish_failures_total") == 0

        assert leaf.pid is not None
        os.kill(leaf.pid, signal.SIGSTOP)  # the process hangs; its sockets stay open
        try:

            async def disconnected() -> bool:
                return (await _health(http, "nats_connected")) is False

            await wait_for(disconnected, timeout=8, interval=0.2, message="reported not connected")
            await create_group(http)  # writes still succeed: the event waits in the outbox

            async def backlog() -> str | None:
                text = (await http.get("/metrics")).text
                stuck = (sample(text, "mgn_outbox_oldest_age_seconds") or 0) > 0
                failed = (sample(text, "mgn_relay_publish_failures_total") or 0) >= 1
                return text if stuck and failed else None

            text = await wait_for(backlog, timeout=30, interval=0.5, message="backlog seen")
            assert sample(text, "mgn_outbox_pending") == 1
            assert sample(text, "mgn_nats_connected") == 0
        finally:
            os.kill(leaf.pid, signal.SIGCONT)

        async def drained() -> bool:
            text = (await http.get("/metrics")).text
            return (
                sample(text, "mgn_outbox_pending") == 0 and sample(text, "mgn_nats_connected") == 1
            )

        await wait_for(drained, timeout=40, interval=0.5, message="connected and drained again")
        assert await _health(http, "nats_connected") is True


async def test_metrics_answer_loopback_or_the_token_only(
    groups: tuple[NatsServer, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MGN_METRICS_TOKEN", "s3cret-scrape")
    app = build_groups(service_settings(groups)).app
    async with serving(app, client=("10.20.30.40", 40000)) as http:
        refused = await http.get("/metrics")
        assert refused.status_code == 403
        assert "MGN_METRICS_TOKEN" in refused.text
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
        assert ok.status_code == 200
        assert "mgn_outbox_pending" in ok.text


def service_settings(groups: tuple[NatsServer, object]) -> GroupsSettings:
    settings: GroupsSettings = groups[1].settings  # type: ignore[attr-defined]
    return settings


async def test_gateway_metrics_count_applied_events_and_lag(
    nats_hub: NatsServer, nats_connect: NatsConnect, make_database_url: DatabaseMaker
) -> None:
    js: JetStreamContext = (await nats_connect(nats_hub)).jetstream()
    await js.add_stream(StreamConfig(name="FEED", subjects=["mgn.>"]))
    await js.add_stream(StreamConfig(name=NATIONAL_STREAM, sources=[StreamSource(name="FEED")]))
    gateway = build_gateway(
        GatewaySettings(
            database_url=await make_database_url("gateway"), nats_url=nats_hub.client_url
        )
    )
    ids = [uuid.uuid4() for _ in range(40)]
    events = [
        make_envelope(
            GroupCreated(
                group_id=g, name=f"G{i}", municipality="Oulu", founded_on=date(2020, 1, 1)
            ),
            region="oulu",
            aggregate_id=g,
            sequence=1,
        )
        for i, g in enumerate(ids)
    ]
    async with serving(gateway.app) as http:
        for env in events:
            await js.publish(subject_for(env), encode(env), headers={"Nats-Msg-Id": env.msg_id})

        async def applied() -> str | None:
            text = (await http.get("/metrics")).text
            done = sample(text, "mgn_events_applied_total", consumer="gateway-read-model")
            return text if done == len(events) else None

        text = await wait_for(applied, timeout=30, message="40 events applied")
        assert sample(text, "mgn_consumer_pending", consumer="gateway-read-model") == 0
        assert sample(text, "mgn_dead_letters_total", service="gateway", region="hub") == 0
        assert sample(text, "mgn_nats_connected", service="gateway") == 1
        await http.post("/graphql", json={"query": "{ regions { id } }"})
        text = (await http.get("/metrics")).text
        assert sample(text, "mgn_http_request_duration_seconds_count", route="/graphql") == 1


async def _health(http: httpx.AsyncClient, key: str) -> object:
    return (await http.get("/healthz")).json().get(key)
