"""Every registered event type is either applied or deliberately ignored by every consumer
that receives it: the national projection (all of them) and each regional service's
consumers (the types of the service they consume). A new event type fails here until each
consumer says what it does with it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import services
from services.gateway.projections import FAMILIES, IGNORED, regions
from shared.contracts import Event
from shared.contracts.base import registered_events
from shared.runtime.asyncapi import Consumed


def _project_events() -> list[type[Event]]:
    """The project's event types: not the ones tests define for themselves (test_upcasting's
    ``testonly.*``, registered when that module is imported in the same process)."""
    return [e for e in registered_events() if not e.__module__.startswith("tests.")]


def _names(types: set[type[Event]]) -> list[str]:
    return sorted(t.TYPE for t in types)


def test_the_national_projection_applies_or_ignores_every_registered_type():
    applied: set[type[Event]] = set(regions.HANDLES)
    for family in FAMILIES:
        applied |= set(family.HANDLES)
    ignored = set(IGNORED)
    assert not applied & ignored, f"both applied and ignored: {_names(applied & ignored)}"
    missing = set(_project_events()) - applied - ignored
    assert not missing, f"NATIONAL projection: neither applied nor ignored: {_names(missing)}"


def _regional_consumers() -> list[tuple[str, Consumed]]:
    found: list[tuple[str, Consumed]] = []
    for module in sorted(Path(services.__file__).parent.glob("*/events.py")):
        service = module.parent.name
        events = importlib.import_module(f"services.{service}.events")
        found.extend((service, consumed) for consumed in getattr(events, "CONSUMED", ()))
    return found


CONSUMERS = _regional_consumers()


def test_the_regional_services_declare_their_consumers():
    assert {c.durable for _, c in CONSUMERS} >= {
        "meetings-groups-ackall",
        "feedback-meetings-ackall",
        "feedback-groups-ackall",
    }


@pytest.mark.parametrize(("service", "consumed"), CONSUMERS, ids=lambda v: getattr(v, "durable", v))
def test_each_regional_consumer_applies_or_ignores_every_type_it_receives(
    service: str, consumed: Consumed
):
    receives = {e for e in _project_events() if e.type_parts()[0] == consumed.source}
    handles, ignores = set(consumed.handles), set(consumed.ignores)
    assert not handles & ignores, f"{consumed.durable}: both: {_names(handles & ignores)}"
    foreign = (handles | ignores) - receives
    assert not foreign, f"{consumed.durable}: lists types it never receives: {_names(foreign)}"
    missing = receives - handles - ignores
    assert not missing, (
        f"{service}'s {consumed.durable}: neither applied nor ignored: {_names(missing)}"
    )
