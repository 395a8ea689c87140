"""Shared test configuration: fixture plugins live in tests/fixtures/.

The suite runs on several pytest-xdist workers (``addopts`` in pyproject.toml). Tests marked
``e2e`` run whole federations of processes and measure recovery against deadlines, so at most
two of them run at once: they go in two lanes (``xdist_group`` "e2e-1" and "e2e-2"), each lane
on one worker, its tests one after another. No e2e test binds a fixed port (each asks for free
ones, ``mgn demo`` and ``mgn region up`` included), so the lanes cannot collide; the split
only balances time (:data:`E2E_SECONDS`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.db",
    "tests.fixtures.credentials",
    "tests.fixtures.console",
    "tests.fixtures.logging_state",
]

E2E_LANES = 2
# Seconds each e2e module took, setup and teardown and PostgreSQL variants included
# (`pytest tests/e2e -n 0 --durations=60` at load 25-30 on 2 cores, 2026-12-07; the browser
# modules from runs of their own at load ~20); only their sizes relative to each other
# matter. A module not listed counts as E2E_DEFAULT_SECONDS until measured.
E2E_SECONDS = {
    "test_hub_region_commands.py": 633,
    "test_demo.py": 509,
    "test_operations_commands.py": 478,
    "test_gateway_crash.py": 334,
    "test_console_month.py": 330,
    "test_clustered_hub.py": 194,
    "test_worked_example.py": 190,
    "test_soak.py": 159,
    "test_outbox_crash.py": 159,
    "test_console_a11y.py": 150,
    "test_offline_autonomy.py": 114,
    "test_dashboard_views.py": 90,
    "test_graphiql.py": 61,
    "test_dashboard.py": 60,
    "test_federation_scale.py": 55,
    "test_compose_federation.py": 60,  # Docker only
    "test_nats_container.py": 20,  # Docker only
}
E2E_DEFAULT_SECONDS = 60


def e2e_lanes(modules: list[str]) -> dict[str, str]:
    """Each e2e module's lane: the longest first, each into the lane with the least time so
    far (the same answer on every worker: xdist compares the workers' collections)."""
    load = [0.0] * E2E_LANES
    lanes = {}
    for module in sorted(set(modules), key=lambda m: (-E2E_SECONDS.get(m, E2E_DEFAULT_SECONDS), m)):
        lane = load.index(min(load))
        load[lane] += E2E_SECONDS.get(module, E2E_DEFAULT_SECONDS)
        lanes[module] = f"e2e-{lane + 1}"
    return lanes


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    e2e = [item for item in items if item.get_closest_marker("e2e") is not None]
    lanes = e2e_lanes([Path(item.path).name for item in e2e])
    for item in e2e:
        item.add_marker(pytest.mark.xdist_group(lanes[Path(item.path).name]))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with ``--dist loadgroup``, refuse to run if the e2e tests did not get
    their lane (xdist names it in the node id): they would run at once on every worker."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    e2e = [i.nodeid for i in session.items if i.get_closest_marker("e2e") is not None]
    lanes = tuple(f"@e2e-{n + 1}" for n in range(E2E_LANES))
    loose = [nodeid for nodeid in e2e if not nodeid.endswith(lanes)]
    if loose:
        raise pytest.UsageError(
            f"{len(loose)} e2e tests lost their xdist group (e.g. {loose[0]}): "
            "pytest-xdist's loadgroup does not work with this pytest version"
        )
