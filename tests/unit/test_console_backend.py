"""The console's client of the services (services/console/backend.py): one kept-alive
connection per service, a query asked again on a connection the service closed, a mutation
never sent twice (a real local HTTP server; the real services in the integration tests)."""

from __future__ import annotations

import importlib.abc
import json
import sys

import pytest

from services.console.backend import Backend, BackendUnavailable, read_only
from tests.fixtures.closing_server import closing_server

ANSWER = json.dumps({"data": {"groups": []}}).encode()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ groups { id } }", True),
        ("query($g: UUID!) { group(id: $g) { id } }", True),
        ("\n  # the groups\n  query Groups { groups { id } }", True),
        ("mutation($i: AddMemberInput!) { addMember(input: $i) { id } }", False),
        ("  mutation { x }", False),
        ("subscription { events }", False),
        ("fragment F on Group { id } query { groups { ...F } }", False),  # not recognised
        ("queryX { y }", False),
    ],
)
def test_only_a_query_counts_as_read_only(document, expected):
    assert read_only(document) is expected


async def test_a_query_is_asked_again_on_a_new_connection_when_the_service_closed_it():
    async with closing_server(ANSWER) as server:
        backend = Backend({"groups": server.url}, {"Authorization": "Bearer x"}, timeout=5)
        try:
            assert await backend.groups("{ groups { id } }") == {"groups": []}
            assert await backend.groups("{ groups { id } }") == {"groups": []}
            assert (len(server.connections), len(server.requests)) == (2, 3)
        finally:
            await backend.aclose()


async def test_a_mutation_on_a_closed_connection_is_not_sent_again():
    """The service may have done the first one: the page says the service did not answer."""
    mutation = 'mutation { createGroup(input: {name: "A"}) { id } }'
    async with closing_server(ANSWER) as server:
        backend = Backend({"groups": server.url}, {}, timeout=5)
        try:
            await backend.groups("{ groups { id } }")
            with pytest.raises(BackendUnavailable, match="not reachable"):
                await backend.groups(mutation)
            assert len(server.requests) == 2  # sent once
            assert await backend.groups("{ groups { id } }") == {"groups": []}  # a new one
            assert len(server.connections) == 2
        finally:
            await backend.aclose()


async def test_requests_to_a_service_share_one_kept_alive_connection():
    async with closing_server(ANSWER) as server:
        backend = Backend({"groups": server.url, "meetings": server.url}, {}, timeout=5)
        try:
            await backend.groups("{ groups { id } }")  # the first connection (the closing one)
            for _ in range(3):
                await backend.meetings("{ groups { id } }")
            # meetings has its own client: one connection for its three requests
            assert len(server.connections) == 2
            assert len(server.requests) == 4
        finally:
            await backend.aclose()


async def test_an_unknown_service_is_unavailable():
    backend = Backend({"groups": "http://127.0.0.1:9"}, {})
    with pytest.raises(BackendUnavailable, match="no such service"):
        await backend.graphql("nowhere", "{ x }")


class _Lookups(importlib.abc.MetaPathFinder):
    """Every module looked for through sys.meta_path (an import not yet in sys.modules)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname, path, target=None):
        self.names.append(fullname)
        return  # the other finders go on as usual


async def test_asking_a_service_imports_nothing():
    """httpcore asks which event loop runs (``import sniffio``) at every connection lock
    and close: with sniffio missing, each was a failed import searching all of sys.path
    (27k find_spec calls in one crawl of the console's pages)."""
    async with closing_server(ANSWER) as server:
        backend = Backend({"groups": server.url, "meetings": server.url}, {}, timeout=5)
        try:
            await backend.groups("{ groups { id } }")  # the first: modules load once
            lookups = _Lookups()
            sys.meta_path.insert(0, lookups)
            try:
                for _ in range(3):
                    await backend.meetings("{ groups { id } }")
            finally:
                sys.meta_path.remove(lookups)
            assert lookups.names == []
        finally:
            await backend.aclose()
