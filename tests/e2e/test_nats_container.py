"""The stream settings of a region work on the official NATS image too (Docker only)."""

from __future__ import annotations

import nats
import pytest

from shared.contracts.subjects import build_subject
from shared.messaging.jetstream import ensure_region_stream
from tests.fixtures.containers import nats_container

__all__ = ["nats_container"]  # the fixture, imported for this module

pytestmark = [pytest.mark.e2e, pytest.mark.nats]


async def test_region_stream_drops_a_duplicate_on_the_nats_image(nats_container):
    nc = await nats.connect(nats_container.nats_uri())
    try:
        js = nc.jetstream()
        await ensure_region_stream(js, "oulu")
        subject = build_subject("oulu", "groups", "group", "created")
        first = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "e-1"})
        again = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "e-1"})
        assert not first.duplicate
        assert again.duplicate
    finally:
        await nc.close()
