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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the group
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group("e2e"))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """On an xdist worker with ``--dist loadgroup``, refuse to run if the e2e tests did not get
    their group (xdist names it in the node id): they would run at once on several workers."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    e2e = [i.nodeid for i in session.items if i.get_closest_marker("e2e") is not None]
    loose = [nodeid for nodeid in e2e if not nodeid.endswith("@e2e")]
    if loose:
        raise pytest.UsageError(
            f"{len(loose)} e2e tests lost their xdist group (e.g. {loose[0]}): "
            "pytest-xdist's loadgroup does not work with this pytest version"
        )
