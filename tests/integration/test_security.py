"""Broker security: every region logs in to the hub as its own user, allowed to publish only
under its own id (plus what sourcing needs); the gateway user has full rights."""

from __future__ import annotations

import asyncio
import json
import time

import nats
import pytest

from deploy.credentials import RegionCredentials
from deploy.pki import new_region_key
from shared.contracts.subjects import build_subject, region_filter
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
    join_inbox_prefix,
    join_subject,
    region_source,
    region_stream_config,
    region_stream_name,
    resync_region_source,
    source_states,
)
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats


def subject(region: str) -> str:
    return build_subject(region, "groups", "group", "created")


async def counts(js, stream: str) -> dict[str, int]:
    return dict((await js.stream_info(stream, subjects_filter=">")).state.subjects or {})


async def secure_federation(secure_hub, secure_leaf_factory, nats_connect, regions):
    hub_js = (await nats_connect(secure_hub.client_url)).jetstream()
    await ensure_national_stream(hub_js)
    leaves, region_nc = {}, {}
    for region in regions:
        leaves[region] = await secure_leaf_factory(region)
        region_nc[region] = await nats_connect(leaves[region])
        await ensure_region_stream(region_nc[region].jetstream(), region)
        assert await add_region_source(hub_js, region)
    return hub_js, leaves, region_nc


async def test_sourcing_works_with_the_restricted_users(
    secure_hub, secure_leaf_factory, nats_connect
):
    regions = ("oulu", "kainuu")
    hub_js, _, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, regions
    )
    for region in regions:
        for i in range(3):
            await (
                region_nc[region]
                .jetstream()
                .publish(subject(region), b"{}", headers={"Nats-Msg-Id": f"{region}-{i}"})
            )
    expected = {subject(r): 3 for r in regions}
    await wait_for(
        lambda: _eq(counts(hub_js, NATIONAL_STREAM), expected), timeout=20, message="sourced"
    )
    states = await source_states(hub_js)
    assert {r: (s.lag, s.error) for r, s in states.items()} == dict.fromkeys(regions, (0, None))
    assert all(s.active is not None and s.active < 5 for s in states.values())

    # A resync (what the registrar does after a hub restart) works with these rights too.
    assert await resync_region_source(hub_js, "oulu")
    await (
        region_nc["oulu"]
        .jetstream()
        .publish(subject("oulu"), b"{}", headers={"Nats-Msg-Id": "oulu-after-resync"})
    )
    await wait_for(
        lambda: _eq(counts(hub_js, NATIONAL_STREAM), {**expected, subject("oulu"): 4}),
        timeout=20,
        message="sourced after resync, no duplicates",
    )


async def test_a_region_cannot_publish_as_another_region(
    secure_hub, secure_leaf_factory, nats_connect
):
    hub_js, _, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, ("oulu", "kainuu")
    )
    hub_nc = await nats_connect(secure_hub.client_url)
    at_hub: list[str] = []

    async def seen(msg) -> None:
        at_hub.append(msg.subject)

    await hub_nc.subscribe("mgn.>", cb=seen)
    await hub_nc.subscribe("mgnctl.*.join", cb=seen)
    await hub_nc.flush()
    oulu = region_nc["oulu"]
    await asyncio.sleep(0.5)  # the hub's interest reaches the leaf servers

    # Core publishes from oulu's leaf: its own subject crosses the link, kainuu's does not.
    await oulu.publish(subject("kainuu"), b"forged")
    await oulu.publish(build_subject("kainuu", "node", "region", "announced"), b"forged")
    await oulu.publish(join_subject("kainuu"), b"{}")  # joining as another region
    await oulu.publish(join_subject("oulu"), b"{}")
    await oulu.publish("mgn.oulu.core.only.test", b"genuine")
    await oulu.flush()
    await wait_for(lambda: len(at_hub) >= 2, timeout=10, message="oulu's own messages at the hub")
    await asyncio.sleep(1.5)
    assert sorted(at_hub) == ["mgn.oulu.core.only.test", join_subject("oulu")]

    # Nothing forged reached kainuu's own stream (the hub would have routed it there) ...
    assert (await counts(region_nc["kainuu"].jetstream(), region_stream_name("kainuu"))) == {}
    # ... nor NATIONAL (oulu's stream captured its own core publish, which is legitimate).
    assert await counts(hub_js, NATIONAL_STREAM) == {"mgn.oulu.core.only.test": 1}


async def test_a_forged_stream_is_filtered_out_of_national(
    secure_hub, secure_leaf_factory, nats_connect
):
    """Oulu's operator controls its own leaf server: it widens its stream to kainuu's subjects
    and stores a forged event. NATIONAL's source filter keeps it out."""
    hub_js = (await nats_connect(secure_hub.client_url)).jetstream()
    await ensure_national_stream(hub_js)
    oulu = await secure_leaf_factory("oulu")
    oulu_js = (await nats_connect(oulu)).jetstream()
    wide = region_stream_config("oulu")
    wide.subjects = [region_filter("oulu"), region_filter("kainuu")]
    await oulu_js.add_stream(wide)
    assert await add_region_source(hub_js, "oulu")
    await oulu_js.publish(subject("kainuu"), b"{}", headers={"Nats-Msg-Id": "forged"})
    await oulu_js.publish(subject("oulu"), b"{}", headers={"Nats-Msg-Id": "genuine"})

    await wait_for(
        lambda: _eq(counts(hub_js, NATIONAL_STREAM), {subject("oulu"): 1}),
        timeout=20,
        message="the genuine event in NATIONAL",
    )
    await asyncio.sleep(1.5)
    assert await counts(hub_js, NATIONAL_STREAM) == {subject("oulu"): 1}


async def test_a_leaf_without_valid_credentials_gets_no_link(
    secure_hub, secure_leaf_factory, nats_connect
):
    real = secure_hub.add_region("oulu")
    forged = RegionCredentials("oulu", new_region_key()[0], real.hubs, real.hub_ca)
    leaf = await secure_leaf_factory("oulu", credentials=forged, wait_connected=False)
    await asyncio.sleep(2.5)
    assert await asyncio.to_thread(leaf.leafnode_count) == 0
    # A client without the gateway's password cannot connect to the hub either.
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    # nats-py raises several kinds of errors here; the error callback says why.
    with pytest.raises(Exception):  # noqa: B017, PT011
        await asyncio.wait_for(
            nats.connect(
                secure_hub.server.client_url,
                allow_reconnect=False,
                connect_timeout=2,
                error_cb=on_error,
            ),
            timeout=5,
        )
    assert any("authorization" in str(e).lower() for e in errors), errors


async def test_the_join_reply_crosses_the_link_only_to_its_region(
    secure_hub, secure_leaf_factory, nats_connect
):
    """The registrar's reply travels on mgnctl.<region>.inbox.>: a region may receive that
    (and its JetStream API requests), so the join request-reply works with the restricted
    user."""
    hub_nc = await nats_connect(secure_hub.client_url)

    async def answer(msg) -> None:
        await msg.respond(b'{"ok": true}')

    await hub_nc.subscribe("mgnctl.*.join", cb=answer)
    await hub_nc.flush()
    leaf = await secure_leaf_factory("oulu")
    nc = await nats_connect(leaf, inbox_prefix=join_inbox_prefix("oulu"))
    reply = await wait_for(
        lambda: nc.request(join_subject("oulu"), b"{}", timeout=1), timeout=15, message="reply"
    )
    assert reply.data == b'{"ok": true}'


async def _eq(value, expected):
    return await value == expected


# -- attacks through the JetStream machinery of the link --------------------------------------


async def raw_publish(
    url: str, messages: list[tuple[str, str, bytes, bytes]], *, timeout: float = 5.0
) -> None:
    """Publish ``(subject, reply, header block, body)`` messages over a raw client connection.

    A header block may carry a status line (``NATS/1.0 100 FlowControl Request``), which
    nats-py cannot send: this is how a region's operator forges JetStream control messages.
    """
    host, _, port = url.removeprefix("nats://").rpartition("@")[2].partition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        await asyncio.wait_for(reader.readline(), timeout)  # INFO
        writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n')
        for subj, reply, hdr, body in messages:
            sizes = f"{len(hdr)} {len(hdr) + len(body)}".encode()
            line = b" ".join(p for p in (b"HPUB", subj.encode(), reply.encode(), sizes) if p)
            writer.write(line + b"\r\n" + hdr + body + b"\r\n")
        writer.write(b"PING\r\n")
        await writer.drain()
        while (line := await asyncio.wait_for(reader.readline(), timeout)) != b"PONG\r\n":
            assert not line.startswith(b"-ERR"), line
    finally:
        writer.close()


FLOW_CONTROL = b"NATS/1.0 100 FlowControl Request\r\n\r\n"


def leaf_interest(leaf) -> list[str]:
    """The subjects the hub told this leaf server it wants (what the leaf may send there)."""
    leafs = leaf.monitor("leafz?subs=1")["leafs"]
    return [s for link in leafs for s in link.get("subscriptions_list", [])]


async def test_a_region_cannot_purge_delete_or_read_another_regions_stream(
    secure_hub, secure_leaf_factory, nats_connect
):
    """Oulu's operator, on its own leaf server, tries everything that crosses the link:
    forged flow-control requests (the hub "answers" them by publishing to their reply
    subject, with its own rights) aimed at kainuu's JetStream API, direct API requests in
    kainuu's domain, and deliveries to every source subject it can see. Kainuu's stream
    and NATIONAL stay whole."""
    regions = ("oulu", "kainuu")
    hub_js, leaves, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, regions
    )
    kainuu_js = region_nc["kainuu"].jetstream()
    kainuu = region_stream_name("kainuu")
    n = 300
    await asyncio.gather(
        *(
            kainuu_js.publish(subject("kainuu"), b"{}", headers={"Nats-Msg-Id": f"k-{i}"})
            for i in range(n)
        )
    )
    await (
        region_nc["oulu"]
        .jetstream()
        .publish(subject("oulu"), b"{}", headers={"Nats-Msg-Id": "o-0"})
    )
    expected = {subject("kainuu"): n, subject("oulu"): 1}
    await wait_for(lambda: _eq(counts(hub_js, NATIONAL_STREAM), expected), timeout=20)

    # What oulu's leaf may send to: only its own source's deliveries, no one else's.
    visible = leaf_interest(leaves["oulu"])
    deliveries = [s for s in visible if s.startswith(("$JS.S.", "mgnctl."))]
    assert deliveries, visible
    assert all(s.startswith("mgnctl.oulu.src.") for s in deliveries), visible
    guesses = ["$JS.S.anything", "mgnctl.kainuu.src.S.anything"]

    api = "$JS.kainuu.API"
    targets = [
        f"{api}.STREAM.PURGE.{kainuu}",
        f"{api}.STREAM.DELETE.{kainuu}",
        f"{api}.STREAM.MSG.DELETE.{kainuu}",
        f"{api}.CONSUMER.DURABLE.CREATE.{kainuu}.stolen",
        f"{api}.CONSUMER.CREATE.{kainuu}.stolen.mgn.kainuu.>",
    ]
    forged = [(d, t, FLOW_CONTROL, b"") for d in deliveries + guesses for t in targets]
    await raw_publish(leaves["oulu"].client_url, forged)

    # Direct requests into kainuu's domain from oulu's leaf: no one answers.
    oulu_nc = region_nc["oulu"]
    for target in targets:
        with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
            await oulu_nc.request(target, b'{"config": {"durable_name": "stolen"}}', timeout=1)
    kainuu_from_oulu = oulu_nc.jetstream(domain="kainuu")
    with pytest.raises(Exception):  # noqa: B017, PT011 (no responders or timeout)
        await kainuu_from_oulu.purge_stream(kainuu, timeout=1)
    with pytest.raises(Exception):  # noqa: B017, PT011
        await kainuu_from_oulu.pull_subscribe(subject("kainuu"), "stolen", stream=kainuu)

    await asyncio.sleep(1.5)
    info = await kainuu_js.stream_info(kainuu)
    assert info.state.messages == n
    assert [c.name for c in await kainuu_js.consumers_info(kainuu)] == []
    assert await counts(hub_js, NATIONAL_STREAM) == expected

    # Sourcing still works for both regions after the attack.
    for region in regions:
        await (
            region_nc[region]
            .jetstream()
            .publish(subject(region), b"{}", headers={"Nats-Msg-Id": f"{region}-after"})
        )
    after = {subject("kainuu"): n + 1, subject("oulu"): 2}
    await wait_for(lambda: _eq(counts(hub_js, NATIONAL_STREAM), after), timeout=20)


async def test_a_large_backlog_copies_at_once_when_the_link_returns(
    secure_hub, secure_leaf_factory, nats_connect, record_property
):
    """Flow control works with the narrowed rights: 20,000 events written while the hub is
    down reach NATIONAL, each once, right after the link returns (and a resync)."""
    hub_js, leaves, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, ("kainuu",)
    )
    js = region_nc["kainuu"].jetstream()
    await secure_hub.server.astop()
    n, batch = 20_000, 500
    for start in range(0, n, batch):
        await asyncio.gather(
            *(
                js.publish(subject("kainuu"), b"{}", headers={"Nats-Msg-Id": f"k-{i}"})
                for i in range(start, start + batch)
            )
        )
    await secure_hub.server.astart()
    started = time.monotonic()
    await wait_for(lambda: asyncio.to_thread(leaves["kainuu"].leafnode_count), timeout=15)
    assert await wait_for(lambda: resync_region_source(hub_js, "kainuu"), timeout=15)

    async def copied() -> bool:
        return (await hub_js.stream_info(NATIONAL_STREAM)).state.messages >= n

    await wait_for(copied, timeout=60, interval=0.2, message="20,000 events in NATIONAL")
    elapsed = time.monotonic() - started
    record_property("backlog_copy_seconds", round(elapsed, 2))
    print(f"20,000-event backlog in NATIONAL {elapsed:.1f}s after the hub restart")
    await asyncio.sleep(1.0)
    assert (await hub_js.stream_info(NATIONAL_STREAM)).state.messages == n
    assert (await source_states(hub_js))["kainuu"].lag == 0
    assert elapsed < 30


async def test_a_forged_consumer_reply_stalls_a_source_until_the_registrar_repairs_it(
    secure_hub, secure_leaf_factory, nats_connect, record_property
):
    """The residual risk: replies to the hub's consumer-create requests travel on ``$JSC.R.>``,
    which every region may publish to. While kainuu's link is down the hub's request waits
    for an answer, and oulu answers it with a forged "consumer created": kainuu's source then
    waits for deliveries that never come. The registrar sees a silent source whose region
    answers its probe (a reply only kainuu can send) and resyncs it."""
    from services.gateway.registrar import Registrar

    hub_js, leaves, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, ("oulu", "kainuu")
    )
    hub_nc = await nats_connect(secure_hub.client_url)
    kainuu_js = region_nc["kainuu"].jetstream()
    for i in range(3):
        await kainuu_js.publish(subject("kainuu"), b"{}", headers={"Nats-Msg-Id": f"k-{i}"})
    await wait_for(lambda: _eq(counts(hub_js, NATIONAL_STREAM), {subject("kainuu"): 3}))

    await leaves["kainuu"].astop()
    await resync_region_source(hub_js, "kainuu")  # what the server's own retry does, too

    async def pending_replies() -> list[str]:
        seen = await asyncio.to_thread(leaf_interest, leaves["oulu"])
        return [s for s in seen if s.startswith("$JSC.R.")]

    inboxes = await wait_for(pending_replies, timeout=15, message="a pending consumer-create")
    forged = json.dumps(
        {
            "type": "io.nats.jetstream.api.v1.consumer_create_response",
            "stream_name": region_stream_name("kainuu"),
            "name": "forged",
            "created": "2026-01-01T00:00:00Z",
            "config": {"deliver_subject": "mgnctl.kainuu.src.S.forged", "ack_policy": "none"},
            "delivered": {"consumer_seq": 0, "stream_seq": 0},
            "ack_floor": {"consumer_seq": 0, "stream_seq": 0},
            "num_pending": 0,
        }
    ).encode()
    await raw_publish(leaves["oulu"].client_url, [(i, "", b"", forged) for i in inboxes])
    await asyncio.sleep(2)

    await leaves["kainuu"].astart()
    await wait_for(lambda: asyncio.to_thread(leaves["kainuu"].leafnode_count), timeout=15)
    for i in range(3, 6):
        await kainuu_js.publish(subject("kainuu"), b"{}", headers={"Nats-Msg-Id": f"k-{i}"})
    await asyncio.sleep(4)  # the source is stalled: the link is up, nothing is copied
    assert await counts(hub_js, NATIONAL_STREAM) == {subject("kainuu"): 3}

    registrar = Registrar(hub_nc, hub_js, interval=0.5, stale_after=3.0)
    await registrar.start()
    started = time.monotonic()
    try:
        await wait_for(
            lambda: _eq(counts(hub_js, NATIONAL_STREAM), {subject("kainuu"): 6}),
            timeout=45,
            interval=0.2,
            message="kainuu's source repaired",
        )
    finally:
        await registrar.stop()
    record_property("repaired_seconds", round(time.monotonic() - started, 2))
    elapsed = time.monotonic() - started
    print(f"forged-reply stall repaired {elapsed:.1f}s after the registrar started")
    assert registrar.resyncs >= 1
    assert elapsed < 15  # the server's own retry: ~30 s more
    await asyncio.sleep(1.0)
    assert await counts(hub_js, NATIONAL_STREAM) == {subject("kainuu"): 6}


async def test_the_registrar_upgrades_a_source_from_before_the_delivery_prefix(
    secure_hub, secure_leaf_factory, nats_connect
):
    """A hub upgraded to the narrowed rights still has a source delivering on the shared
    ``$JS.S`` prefix, which the region may no longer publish to: the source stalls, and the
    registrar's resync brings it back with the region's own prefix."""
    from services.gateway.registrar import Registrar

    hub_js, _, region_nc = await secure_federation(
        secure_hub, secure_leaf_factory, nats_connect, ("oulu",)
    )
    old = region_source("oulu")
    assert old.external is not None
    old.external.deliver = None
    info = await hub_js.stream_info(NATIONAL_STREAM)
    await hub_js.update_stream(info.config.evolve(sources=[old]))
    js = region_nc["oulu"].jetstream()
    for i in range(3):
        await js.publish(subject("oulu"), b"{}", headers={"Nats-Msg-Id": f"o-{i}"})
    await asyncio.sleep(3)
    assert await counts(hub_js, NATIONAL_STREAM) == {}  # refused: not its own prefix

    registrar = Registrar(
        await nats_connect(secure_hub.client_url), hub_js, interval=0.5, stale_after=2.0
    )
    await registrar.start()
    try:
        await wait_for(
            lambda: _eq(counts(hub_js, NATIONAL_STREAM), {subject("oulu"): 3}),
            timeout=20,
            message="copied after the upgrade",
        )
    finally:
        await registrar.stop()
    [source] = (await hub_js.stream_info(NATIONAL_STREAM)).config.sources or []
    assert source.external is not None
    assert source.external.deliver == "mgnctl.oulu.src"
