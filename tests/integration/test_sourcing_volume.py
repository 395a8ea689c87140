"""NATIONAL keeps sourcing a region past the flow-control window, with broker security on.

Found by bench/pipeline.py: with the region's restricted user, NATIONAL stopped after
~2.3 MB (the source consumer's flow-control window) because the hub's flow-control replies
were not allowed to flow to the region; the source reported a lag of 0 while ~300 events
were missing. Every later event stayed in the region until a server restart.
"""

from __future__ import annotations

import pytest

from bench.events import region_events
from shared.contracts import encode, subject_for
from shared.messaging.jetstream import (
    NATIONAL_STREAM,
    add_region_source,
    ensure_national_stream,
    ensure_region_stream,
)
from tests.fixtures.nats import wait_for

pytestmark = pytest.mark.nats

EVENTS = 6000  # about 4.9 MB: twice the window at which sourcing used to stall


async def test_national_sources_megabytes_from_a_secured_region(
    secure_hub, secure_leaf_factory, nats_connect
):
    leaf = await secure_leaf_factory("oulu")
    region_nc = await nats_connect(leaf)
    region_js = region_nc.jetstream(publish_async_max_pending=500)
    await ensure_region_stream(region_js, "oulu")
    hub_js = (await nats_connect(secure_hub.client_url)).jetstream()
    await ensure_national_stream(hub_js)
    await add_region_source(hub_js, "oulu")

    for envelope in region_events("oulu", EVENTS):
        await region_js.publish_async(
            subject_for(envelope),
            encode(envelope),
            headers={"Nats-Msg-Id": str(envelope.event_id)},
        )
    await region_js.publish_async_completed()
    region_count = (await region_js.stream_info("REGION_OULU")).state.messages
    assert region_count >= EVENTS

    async def national_has_all() -> bool:
        return (await hub_js.stream_info(NATIONAL_STREAM)).state.messages >= region_count

    try:
        await wait_for(national_has_all, timeout=60, message="NATIONAL caught up")
    except TimeoutError:
        info = await hub_js.stream_info(NATIONAL_STREAM)
        pytest.fail(
            f"NATIONAL stalled at {info.state.messages} of {region_count} events "
            f"({info.state.bytes} bytes; source lag {[s.lag for s in info.sources or []]})"
        )
