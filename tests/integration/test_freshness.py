"""Freshness in national GraphQL: ``linkActive`` and ``eventsBehind`` per region, from NATIONAL's
source state as the gateway's registrar last saw it. A region whose leaf server is down shows
as offline while its last-known data is still served; after a hub restart the registrar
resyncs the stalled source, so the region is back within seconds, not the server's ~40 s."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import AsyncExitStack
from typing import Any

import pytest

from deploy.federation import join_hub
from services.gateway.app import build as build_gateway
from services.gateway.settings import GatewaySettings
from shared.messaging.jetstream import ensure_region_stream
from tests.fixtures.nats import wait_for
from tests.integration.test_onboarding import serve, start_groups

pytestmark = pytest.mark.nats

QUERY = "{ regions { id displayName eventsApplied linkActive eventsBehind lastEventAt } }"


async def region_row(nation: Any, region: str) -> dict[str, Any] | None:
    rows = {r["id"]: r for r in (await nation(QUERY))["regions"]}
    return rows.get(region)


async def test_an_offline_region_is_shown_offline_with_its_last_known_data(
    nats_hub, leaf_factory, tmp_path, record_property
):
    async with AsyncExitStack() as stack:
        gateway = build_gateway(
            GatewaySettings(
                database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
                nats_url=nats_hub.client_url,
                freshness_interval=0.5,
            )
        )
        nation = await serve(stack, gateway.app)
        leaf = await leaf_factory("oulu")
        await start_groups(stack, "oulu", leaf.client_url, tmp_path)
        await join_hub(leaf.client_url, "oulu", timeout=30)

        async def online() -> dict[str, Any] | None:
            row = await region_row(nation, "oulu")
            return row if row and row["linkActive"] and row["eventsBehind"] == 0 else None

        before = await wait_for(online, timeout=20, message="oulu online in national GraphQL")
        assert before["displayName"] == "Oulu"

        # The region's leaf server stops: the nation shows it offline, and still serves it.
        await leaf.astop()
        stopped = time.monotonic()

        async def offline() -> dict[str, Any] | None:
            row = await region_row(nation, "oulu")
            return row if row and row["linkActive"] is False else None

        row = await wait_for(offline, timeout=20, message="oulu shown offline")
        record_property("offline_detected_seconds", round(time.monotonic() - stopped, 2))
        assert row["displayName"] == "Oulu"
        assert row["eventsApplied"] == before["eventsApplied"]
        assert row["lastEventAt"] == before["lastEventAt"]
        assert row["eventsBehind"] == 0  # what the hub last knew

        # It comes back: online again.
        await leaf.astart()
        back = time.monotonic()
        await wait_for(online, timeout=30, message="oulu online again")
        record_property("back_online_seconds", round(time.monotonic() - back, 2))


async def test_the_registrar_resyncs_a_stalled_source_after_a_hub_restart(
    nats_hub, leaf_factory, nats_connect, tmp_path, record_property
):
    async with AsyncExitStack() as stack:
        gateway = build_gateway(
            GatewaySettings(
                database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
                nats_url=nats_hub.client_url,
                freshness_interval=0.5,
            )
        )
        nation = await serve(stack, gateway.app)
        leaf = await leaf_factory("oulu")
        region_js = (await nats_connect(leaf)).jetstream()
        await ensure_region_stream(region_js, "oulu")
        await join_hub(leaf.client_url, "oulu", timeout=30)
        subject = "mgn.oulu.groups.group.created"

        await nats_hub.astop()
        for i in range(5):  # written while the hub is away: invalid payloads, dead-lettered
            await region_js.publish(subject, b"{}", headers={"Nats-Msg-Id": f"offline-{i}"})
        await nats_hub.astart()
        started = time.monotonic()
        await wait_for(lambda: asyncio.to_thread(leaf.leafnode_count), timeout=15)

        hub_js = (await nats_connect(nats_hub)).jetstream()

        async def caught_up() -> bool:
            info = await hub_js.stream_info("NATIONAL")
            return bool(info.state.messages == 5)

        await wait_for(caught_up, timeout=30, interval=0.2, message="NATIONAL caught up")
        elapsed = time.monotonic() - started
        record_property("catch_up_seconds", round(elapsed, 2))
        print(f"NATIONAL caught up {elapsed:.1f}s after the hub restart (registrar resync)")
        assert elapsed < 20  # the server's own retry alone takes 25-40 s
        assert gateway.registrar is not None
        assert gateway.registrar.resyncs >= 1
        assert nation is not None


async def test_events_behind_counts_a_lagging_source_then_drops_to_zero(
    secure_hub, secure_leaf_factory, nats_connect, database_url, record_property
):
    """A region's backlog is being copied when its leaf server freezes (SIGSTOP): national
    GraphQL shows the region offline with ``eventsBehind`` > 0 and the data it has so far;
    once the leaf runs again NATIONAL catches up: ``eventsBehind`` 0, every event applied.
    On SQLite and PostgreSQL (the gateway's read model)."""
    from bench.events import region_events
    from shared.contracts import encode, subject_for

    n = 20_000  # the copy must still be under way when the leaf freezes (5,000 raced it)
    hub_js = (await nats_connect(secure_hub.client_url)).jetstream()
    async with AsyncExitStack() as stack:
        gateway = build_gateway(
            GatewaySettings(
                database_url=database_url,
                nats_url=secure_hub.client_url,
                freshness_interval=0.3,
            )
        )
        nation = await serve(stack, gateway.app)
        leaf = await secure_leaf_factory("oulu")
        region_js = (await nats_connect(leaf)).jetstream()
        await ensure_region_stream(region_js, "oulu")
        await join_hub(leaf.client_url, "oulu", timeout=30)

        await secure_hub.server.astop()  # the backlog piles up in the region
        envelopes = list(region_events("oulu", n))
        n = len(envelopes)
        for envelope in envelopes:
            await region_js.publish_async(
                subject_for(envelope),
                encode(envelope),
                headers={"Nats-Msg-Id": str(envelope.event_id)},
            )
        await region_js.publish_async_completed()
        await secure_hub.server.astart()

        async def copying() -> int:
            count = (await hub_js.stream_info("NATIONAL")).state.messages
            return count if 0 < count < n else 0

        copied = await wait_for(copying, timeout=30, interval=0.005, message="copy under way")
        assert leaf.pid is not None
        os.kill(leaf.pid, signal.SIGSTOP)  # frozen mid-copy: the link is silent
        try:

            async def lagging() -> dict[str, Any] | None:
                row = await region_row(nation, "oulu")
                lag_seen = row and row["linkActive"] is False and (row["eventsBehind"] or 0) > 0
                return row if lag_seen else None

            row = await wait_for(lagging, timeout=30, interval=0.2, message="lag visible")
            record_property("events_behind_seen", row["eventsBehind"])
            print(f"frozen after {copied} copied; GraphQL: eventsBehind {row['eventsBehind']}")
            assert row["eventsBehind"] <= n - copied
            assert row["eventsApplied"] < n
        finally:
            os.kill(leaf.pid, signal.SIGCONT)

        last: list[Any] = []

        async def caught_up() -> dict[str, Any] | None:
            row = await region_row(nation, "oulu")
            last[:] = [row, (await hub_js.stream_info("NATIONAL")).state.messages]
            if row is None or not row["linkActive"] or row["eventsBehind"] != 0:
                return None
            return row if row["eventsApplied"] == n else None

        resumed = time.monotonic()
        try:
            await wait_for(caught_up, timeout=90, interval=0.3, message="caught up in GraphQL")
        except TimeoutError:
            raise AssertionError(f"not caught up: {last}, expected {n}") from None
        record_property("caught_up_seconds", round(time.monotonic() - resumed, 2))
        print(f"caught up in GraphQL {time.monotonic() - resumed:.1f}s after the leaf resumed")
        assert (await hub_js.stream_info("NATIONAL")).state.messages == n
