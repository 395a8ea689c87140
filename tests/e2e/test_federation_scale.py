"""bench/federation_scale.py's core at N = 2, so the benchmark does not rot: two regional
leaf servers with their own credentials join a real hub (nats-server + gateway with its
registrar) and write; the hub's nats-server is killed and started again while they write on;
every event reaches NATIONAL once and is applied by the gateway; every process the run
started is gone afterwards. The curve itself: ``python bench/federation_scale.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.federation_scale import run_scale

pytestmark = [pytest.mark.e2e, pytest.mark.nats]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_two_regions_join_write_and_catch_up_after_a_hub_restart(tmp_path, record_property):
    result = await run_scale(
        tmp_path, 2, rate=2.0, write_seconds=2.0, outage_seconds=2.0, idle_seconds=1.0, settle=1.0
    )
    record_property("federation_scale", "\n".join(result.lines()))

    # each region: its first event at the join, 2/s for 2 s, 2/s for 2 s while the hub is down
    assert result.written_in_window == 2 * 4
    assert result.outage_events == 2 * 4
    assert result.written == 2 + 8 + 8
    assert result.national == result.written  # none lost, none copied twice
    assert result.applied == result.written
    assert result.missing == 0
    assert result.dead_lettered == 0
    assert result.ok

    assert 0 < result.leaves_ready_s <= result.joined_s
    assert 0 < result.links_up_s <= result.sourcing_s
    assert 0 < result.hub_ready_s <= result.links_back_s <= result.applied_s
    assert result.national_s <= result.applied_s
    assert result.idle is not None
    assert result.writing is not None
    assert result.idle.hub_cores >= 0
    assert result.writing.gateway_cores > 0  # the gateway did apply something
    assert result.idle_rss[0] > 5
    assert result.idle_rss[1] > 5  # MB: a live nats-server, a live Python process
    assert result.leaf_rss_mean > 5

    # hub nats-server (before and after the restart), gateway, two leaf servers
    assert len(result.pids) == 5
    assert os.getpid() not in result.pids
    assert [pid for pid in result.pids if _alive(pid)] == []
