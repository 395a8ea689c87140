"""Broker security: every region logs in to the hub as its own user, allowed to publish only
under its own id (plus what sourcing needs); the gateway user has full rights."""

from __future__ import annotations

import asyncio

import nats
import pytest

from deploy.federation import RegionCredentials
from shared.contracts.subjects import build_subject, region_filter
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
    join_inbox_prefix,
    join_subject,
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
    forged = RegionCredentials("oulu", "oulu", "not-the-password")
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
