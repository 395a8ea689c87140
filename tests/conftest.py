"""Shared test configuration: fixture plugins live in tests/fixtures/.

The suite runs on several pytest-xdist workers (``addopts`` in pyproject.toml). Tests marked
``e2e`` run whole federations of processes and measure recovery against deadlines: they share one
worker (one ``xdist_group``), so no two of them compete for the machine's cores at once.
"""

import pytest

pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.db",
    "tests.fixtures.credentials",
    "tests.fixtures.console",
    "tests.fixtures.logging_state",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group("e2e"))
