"""The registrar's resync pacing: a stalled source whose region answers is resynced at once,
then after 2, 4, 8, 15, 15 ... seconds while it stays stalled; delivering again or a
reconnect to the hub starts the pacing over. (Fakes for the hub: the real thing is in
tests/integration/test_freshness.py and test_security.py.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway import registrar as registrar_module
from services.gateway.registrar import Registrar
from shared.messaging.jetstream import SourceState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> tuple[Registrar, Clock, dict[str, Any]]:
    clock = Clock()
    hub: dict[str, Any] = {"active": None, "resyncs": [], "reachable": True}

    async def source_states(_js: object) -> dict[str, SourceState]:
        return {"oulu": SourceState("oulu", "REGION_OULU", lag=7, active=hub["active"])}

    async def resync(_js: object, region: str) -> bool:
        hub["resyncs"].append((region, clock.now))
        return True

    monkeypatch.setattr(registrar_module, "source_states", source_states)
    monkeypatch.setattr(registrar_module, "resync_region_source", resync)
    # The registrar's own clock only (not time.monotonic itself: the event loop uses it).
    monkeypatch.setattr(registrar_module, "time", SimpleNamespace(monotonic=clock.monotonic))
    registrar = Registrar(object(), object())  # type: ignore[arg-type]

    async def ping(_region: str) -> bool:
        return bool(hub["reachable"])

    monkeypatch.setattr(registrar, "ping", ping)
    return registrar, clock, hub


async def resync_times(registrar: Registrar, clock: Clock, hub: dict[str, Any], until: float):
    start = clock.now
    while clock.now - start <= until:
        await registrar.refresh()
        clock.now += 0.5
    return [round(t - start, 1) for _, t in hub["resyncs"]]


async def test_resyncs_are_paced_two_seconds_doubling_to_fifteen(setup):
    registrar, clock, hub = setup
    times = await resync_times(registrar, clock, hub, until=60)
    assert times == [0.0, 2.0, 6.0, 14.0, 29.0, 44.0, 59.0]
    link = registrar.links["oulu"]
    assert (link.link_active, link.events_behind) == (True, 7)  # stalled, yet it answers


async def test_delivering_again_or_a_reconnect_restarts_the_pacing(setup):
    registrar, clock, hub = setup
    assert await resync_times(registrar, clock, hub, until=7) == [0.0, 2.0, 6.0]
    hub["active"] = 0.2  # the source delivers again
    await registrar.refresh()
    hub["active"], hub["resyncs"] = None, []
    clock.now += 0.5
    assert await resync_times(registrar, clock, hub, until=2) == [0.0, 2.0]

    hub["resyncs"] = []
    registrar.wake()  # the gateway's connection to the hub came back
    await registrar.refresh()
    assert len(hub["resyncs"]) == 1


async def test_an_unreachable_region_is_not_resynced_and_shown_offline(setup):
    registrar, clock, hub = setup
    hub["reachable"] = False
    assert await resync_times(registrar, clock, hub, until=10) == []
    assert registrar.links["oulu"].link_active is False
