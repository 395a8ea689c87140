"""The hub + leaf federation on real nats-server processes.

Regions keep their stream in their own JetStream domain; NATIONAL at the hub sources
each of them across the leafnode link, filtered to the region's own subjects.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from functools import partial

import pytest
from nats.js import JetStreamContext
from nats.js.api import ExternalStream, StreamSource
from nats.js.errors import NotFoundError

from shared.contracts.subjects import build_subject, region_filter
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    SourceConflictError,
    WrongDomainError,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
    national_stream_config,
    region_source,
    region_stream_config,
    region_stream_name,
    resync_region_source,
    source_states,
)
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

REGIONS = ("oulu", "kainuu")


def subject(region: str) -> str:
    return build_subject(region, "groups", "group", "created")


async def subject_counts(js: JetStreamContext, stream: str) -> dict[str, int]:
    info = await js.stream_info(stream, subjects_filter=">")
    return dict(info.state.subjects or {})


async def msg_ids(js: JetStreamContext, stream: str) -> list[str]:
    """The Nats-Msg-Id of every message in the stream, in order."""
    info = await js.stream_info(stream)
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
    return ids


async def publish(js: JetStreamContext, region: str, msg_id: str, subj: str | None = None):
    return await js.publish(
        subj or subject(region), msg_id.encode(), headers={"Nats-Msg-Id": msg_id}
    )


async def federation(nats_hub, leaf_factory, nats_connect, regions=REGIONS):
    """Hub + leaves, region streams, NATIONAL with one source per region."""
    hub_js = (await nats_connect(nats_hub)).jetstream()
    leaves, region_js = {}, {}
    for region in regions:
        leaves[region] = await leaf_factory(region)
        region_js[region] = (await nats_connect(leaves[region])).jetstream()
        await ensure_region_stream(region_js[region], region)
    await ensure_national_stream(hub_js)
    for region in regions:
        assert await add_region_source(hub_js, region)
    return hub_js, leaves, region_js


async def test_region_events_reach_national_exactly_once(nats_hub, leaf_factory, nats_connect):
    hub_js, _, region_js = await federation(nats_hub, leaf_factory, nats_connect)

    for region in REGIONS:
        # The region stream lives in the region's domain, not in the hub's.
        in_region = (await nats_connect(nats_hub)).jetstream(domain=region)
        info = await in_region.stream_info(region_stream_name(region))
        assert info.config.subjects == [region_filter(region)]
        with pytest.raises(NotFoundError):
            await hub_js.stream_info(region_stream_name(region))

        for i in range(3):
            ack = await publish(region_js[region], region, f"{region}-{i}")
            assert ack.domain == region
            assert not ack.duplicate
        again = await publish(region_js[region], region, f"{region}-0")
        assert again.duplicate

    expected = {subject(region): 3 for region in REGIONS}
    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), expected),
        timeout=15,
        message="NATIONAL has every region's events",
    )
    await asyncio.sleep(1.5)  # nothing more trickles in
    assert await subject_counts(hub_js, NATIONAL_STREAM) == expected
    ids = await msg_ids(hub_js, NATIONAL_STREAM)
    assert sorted(ids) == sorted(f"{r}-{i}" for r in REGIONS for i in range(3))

    states = await source_states(hub_js)
    assert set(states) == set(REGIONS)
    for region, state in states.items():
        assert state.stream == region_stream_name(region)
        assert state.lag == 0
        assert state.active is not None
        assert state.active < 10
        assert state.error is None


async def test_forged_subject_of_another_region_is_not_sourced(
    nats_hub, leaf_factory, nats_connect
):
    oulu = await leaf_factory("oulu")
    oulu_js = (await nats_connect(oulu)).jetstream()
    hub_js = (await nats_connect(nats_hub)).jetstream()
    # Oulu's operator widens its own stream to kainuu's subjects and forges an event.
    wide = region_stream_config("oulu")
    wide.subjects = [region_filter("oulu"), region_filter("kainuu")]
    await oulu_js.add_stream(wide)
    await ensure_national_stream(hub_js)
    assert await add_region_source(hub_js, "oulu")

    await publish(oulu_js, "oulu", "forged-1", subject("kainuu"))
    await publish(oulu_js, "oulu", "genuine-1")
    assert await subject_counts(oulu_js, region_stream_name("oulu")) == {
        subject("kainuu"): 1,
        subject("oulu"): 1,
    }

    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), {subject("oulu"): 1}),
        timeout=15,
        message="genuine event in NATIONAL",
    )
    await asyncio.sleep(1.5)
    assert await subject_counts(hub_js, NATIONAL_STREAM) == {subject("oulu"): 1}


async def test_add_region_source_adds_once(nats_hub, nats_connect):
    hub_js = (await nats_connect(nats_hub)).jetstream()
    await ensure_national_stream(hub_js)

    results = await asyncio.gather(*(add_region_source(hub_js, "oulu") for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert not await add_region_source(hub_js, "oulu")
    assert await add_region_source(hub_js, "kainuu")

    await ensure_national_stream(hub_js)  # keeps the sources
    sources = (await hub_js.stream_info(NATIONAL_STREAM)).config.sources or []
    assert [
        (
            s.name,
            s.external.api if s.external else None,
            s.external.deliver if s.external else None,
            s.filter_subject,
        )
        for s in sources
    ] == [
        ("REGION_OULU", "$JS.oulu.API", "mgnctl.oulu.src", "mgn.oulu.>"),
        ("REGION_KAINUU", "$JS.kainuu.API", "mgnctl.kainuu.src", "mgn.kainuu.>"),
    ]


@pytest.mark.parametrize("upgrade", ["join", "resync"])
async def test_a_source_without_its_delivery_prefix_is_upgraded_in_place(
    nats_hub, leaf_factory, nats_connect, upgrade
):
    """A hub set up before sources had per-region delivery prefixes: the join replaces the
    old source, and NATIONAL carries on after what it had copied (nothing twice)."""
    hub_js, _, region_js = await federation(nats_hub, leaf_factory, nats_connect)
    old = region_source("oulu")
    assert old.external is not None
    old.external.deliver = None
    info = await hub_js.stream_info(NATIONAL_STREAM)
    others = [s for s in info.config.sources or [] if s.name != old.name]
    await hub_js.update_stream(info.config.evolve(sources=[*others, old]))
    for i in range(3):
        await publish(region_js["oulu"], "oulu", f"oulu-old-{i}")
    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), {subject("oulu"): 3}),
        timeout=15,
        message="copied by the old source",
    )

    if upgrade == "join":
        assert await add_region_source(hub_js, "oulu")
    else:  # the registrar resyncs a stalled old source
        assert await resync_region_source(hub_js, "oulu")
    assert not await add_region_source(hub_js, "oulu")  # it is the current source now
    await publish(region_js["oulu"], "oulu", "oulu-new")
    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), {subject("oulu"): 4}),
        timeout=15,
        message="copied by the upgraded source",
    )
    await asyncio.sleep(1.5)
    assert await subject_counts(hub_js, NATIONAL_STREAM) == {subject("oulu"): 4}


async def test_add_region_source_refuses_a_conflicting_source(nats_hub, nats_connect):
    hub_js = (await nats_connect(nats_hub)).jetstream()
    unfiltered = StreamSource(
        name=region_stream_name("oulu"), external=ExternalStream(api="$JS.oulu.API")
    )
    await hub_js.add_stream(national_stream_config(), sources=[unfiltered])
    with pytest.raises(SourceConflictError):
        await add_region_source(hub_js, "oulu")


async def test_ensure_region_stream_is_idempotent_and_restores_settings(
    nats_hub, leaf_factory, nats_connect
):
    oulu = await leaf_factory("oulu")
    js = (await nats_connect(oulu)).jetstream()
    await js.add_stream(region_stream_config("oulu"), max_age=3600.0)

    with pytest.raises(WrongDomainError):
        await ensure_region_stream((await nats_connect(nats_hub)).jetstream(), "oulu")

    fixed = await ensure_region_stream(js, "oulu")
    assert fixed.config.max_age == region_stream_config("oulu").max_age
    again = await ensure_region_stream(js, "oulu")
    assert again.config == fixed.config


@pytest.mark.parametrize("resync", [False, True], ids=["server-retry", "resync"])
async def test_national_catches_up_after_hub_restart(
    nats_hub, leaf_factory, nats_connect, resync, record_property
):
    hub_js, leaves, region_js = await federation(nats_hub, leaf_factory, nats_connect)
    for region in REGIONS:
        for i in range(5):
            await publish(region_js[region], region, f"{region}-before-{i}")
    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), {subject(r): 5 for r in REGIONS}),
        timeout=15,
        message="first copy",
    )

    await nats_hub.astop()
    for region in REGIONS:  # regions keep working while the hub is down
        for i in range(10):
            ack = await publish(region_js[region], region, f"{region}-offline-{i}")
            assert not ack.duplicate
        assert (await publish(region_js[region], region, f"{region}-offline-0")).duplicate

    started = time.monotonic()
    await nats_hub.astart()
    for leaf in leaves.values():
        await wait_for(partial(asyncio.to_thread, leaf.leafnode_count), timeout=15)
    if resync:
        for region in REGIONS:
            assert await wait_for(partial(resync_region_source, hub_js, region))

    expected = {subject(r): 15 for r in REGIONS}
    await wait_for(
        lambda: _equals(subject_counts(hub_js, NATIONAL_STREAM), expected),
        timeout=90,
        interval=0.2,
        message="NATIONAL catch-up after the hub restart",
    )
    elapsed = time.monotonic() - started
    record_property("catch_up_seconds", round(elapsed, 2))
    print(f"catch-up after hub restart ({'resync' if resync else 'server retry'}): {elapsed:.1f}s")
    if resync:
        assert elapsed < 15

    await asyncio.sleep(1.5)
    ids = await msg_ids(hub_js, NATIONAL_STREAM)
    assert len(ids) == 30
    assert not [i for i, n in Counter(ids).items() if n > 1]


async def _equals(counts, expected) -> bool:
    return await counts == expected
