"""The soak of issue 10 (part 8), one minute of it: a federation under steady regional writes
with every kind of fault (kill -9 of the hub's nats-server, of the gateway, of a regional
service; the leaf server paused; the leaf link cut), then every event written in the region
is applied nationally exactly once. Longer runs: ``python -m bench.soak --minutes 10``."""

from __future__ import annotations

import pytest

from bench.soak import FAULT_KINDS, soak

pytestmark = [pytest.mark.e2e, pytest.mark.nats]


async def test_one_minute_of_faults_loses_and_doubles_nothing(tmp_path, record_property):
    result = await soak(tmp_path, minutes=1.0, rate=10.0, seed=20261207, gaps=(3.0, 6.0))
    record_property("soak", "\n".join(result.lines()))

    assert {kind for _, kind, _ in result.faults} == set(FAULT_KINDS)
    assert sum(result.restarts.values()) >= 3  # the kills were restarted by the supervisor
    assert result.writes_ok > 100
    assert result.written >= result.writes_ok  # every answered write left its event
    assert result.missing == [], result.lines()
    assert result.unknown == [], result.lines()
    assert result.applied == result.written
    assert result.members_national == result.members_written == result.writes_ok
    assert result.ok
