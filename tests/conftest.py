"""Shared test configuration: fixture plugins live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.nats",
    "tests.fixtures.db",
    "tests.fixtures.credentials",
    "tests.fixtures.console",
    "tests.fixtures.logging_state",
]
