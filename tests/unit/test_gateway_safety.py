"""Safe by default: query limits, query cost, masked internal errors, introspection/GraphiQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.types import ExecutionResult

from services.gateway.app import build
from services.gateway.graphql import GatewayContext, build_schema, schema
from services.gateway.graphql.cost import cost_rule
from services.gateway.graphql.safety import INTERNAL_CODE
from services.gateway.orm import metadata
from services.gateway.settings import GatewaySettings
from shared.storage import create_engine, create_schema, session_factory

Sessions = async_sessionmaker[AsyncSession]
MEETINGS = "query($n: Int) { meetings(first: $n) { totalCount edges { node { id theme } } } }"


@pytest.fixture(autouse=True)
def _no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings under test come from the test, not from the machine's environment."""
    for name in ("PROFILE", "GRAPHIQL", "INTROSPECTION", "MAX_COST", "MAX_DEPTH"):
        monkeypatch.delenv(f"MGN_GATEWAY_{name}", raising=False)


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    """An empty read model: enough for a query that passes validation to run."""
    engine = create_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    await create_schema(engine, metadata)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def broken_sessions() -> Any:
    raise RuntimeError("connection refused by db.internal:5432 (password=hunter2)")


async def run(
    query: str,
    settings: GatewaySettings | None = None,
    sessions: Any = broken_sessions,
    **variables: Any,
) -> ExecutionResult:
    target = build_schema(settings) if settings is not None else schema
    return await target.execute(
        query, variable_values=variables, context_value=GatewayContext.create(sessions)
    )


def messages(result: ExecutionResult) -> str:
    assert result.errors, "expected the query to be refused"
    return " | ".join(e.message for e in result.errors)


def cost_of(query: str, **variables: Any) -> int:
    """The cost the rule computes (read back from its error against a limit of 0)."""
    errors = validate(schema._schema, parse(query), [cost_rule(0, variables)])
    assert len(errors) == 1
    assert errors[0].extensions
    return int(errors[0].extensions["cost"])


# --- depth, aliases, tokens -------------------------------------------------------------


async def test_an_over_deep_query_is_refused() -> None:
    deep = "{ meetings { edges { node { host { group { name } } } } } }"  # depth 5
    result = await run(deep, GatewaySettings(max_depth=4))
    assert "exceeds maximum operation depth of 4" in messages(result)
    assert result.data is None
    assert "depth" not in messages(await run(deep, GatewaySettings(max_depth=5)))


async def test_too_many_aliases_are_refused() -> None:
    query = "{ a: regions { id } b: regions { id } c: regions { id } }"
    result = await run(query, GatewaySettings(max_aliases=2))
    assert "3 aliases found. Allowed: 2" in messages(result)
    result = await run(" ".join(f"a{i}: __typename" for i in range(31)).join("{}"))
    assert "31 aliases found. Allowed: 30" in messages(result)  # the default limit


async def test_too_many_tokens_are_refused_before_any_work() -> None:
    query = "{ " + " ".join(["__typename"] * 150) + " }"
    result = await run(query, GatewaySettings(max_tokens=100))
    assert "Document contains more than 100 tokens" in messages(result)
    assert (await run(query, GatewaySettings(max_tokens=200))).errors is None


# --- query cost -----------------------------------------------------------------------------


def test_cost_counts_fields_and_multiplies_each_page_by_its_first() -> None:
    # meetings 1 + totalCount 1 + edges 1 + 100 x (node 1 + id 1 + theme 1)
    assert cost_of("{ meetings(first: 100) { totalCount edges { node { id theme } } } }") == 303
    assert cost_of(MEETINGS, n=10) == 33  # priced with the request's variables
    assert cost_of("{ meetings { edges { node { id } } } }") == 2 + 50 * 2  # default page 50
    assert cost_of("query($n: Int = 7) { groups(first: $n) { edges { node { id } } } }") == 16
    assert cost_of("{ meetings(first: 500) { totalCount } }") == 2  # no items asked for
    # nested: every meeting of the page asks for its host's group
    nested = "{ meetings(first: 10) { edges { node { host { group { name } } } } } }"
    assert cost_of(nested) == 2 + 10 * (1 + 1 + 1 + 1)
    fragment = (
        "{ meetings(first: 10) { edges { ...E } } } fragment E on MeetingEdge { node { id } }"
    )
    assert cost_of(fragment) == 2 + 10 * 2


async def test_an_over_cost_query_is_refused_naming_cost_and_limit(sessions: Sessions) -> None:
    settings = GatewaySettings(max_cost=1000)
    assert cost_of(MEETINGS, n=332) == 999
    assert cost_of(MEETINGS, n=333) == 1002
    result = await run(MEETINGS, settings, sessions, n=333)
    assert result.data is None
    error = result.errors[0] if result.errors else None
    assert error is not None
    assert "cost is 1,002" in error.message
    assert "limit is 1,000" in error.message
    assert "smaller `first`" in error.message
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": 1002, "maxCost": 1000}
    accepted = await run(MEETINGS, settings, sessions, n=332)  # just under the limit
    assert accepted.errors is None
    assert accepted.data == {"meetings": {"totalCount": 0, "edges": []}}


async def test_the_default_cost_limit_refuses_a_page_of_pages() -> None:
    # 20 aliased full pages: each 1 + 1 + 500 x (1 + 2 + 2) = 2,502; together 50,040
    page = "meetings(first: 500) { edges { node { group { name } host { id } } } }"
    query = "{ " + " ".join(f"p{i}: {page}" for i in range(20)) + " }"
    assert cost_of(query) == 50_040
    result = await run(query)
    assert "cost is 50,040, the limit is 50,000" in messages(result)


# --- errors ---------------------------------------------------------------------------------


async def test_an_internal_error_is_masked_with_a_logged_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        result = await run("{ regions { id } }")
    assert result.errors
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.message.startswith("Internal server error (reference ")
    assert "hunter2" not in error.message
    assert "db.internal" not in error.message
    assert error.extensions
    assert error.extensions["code"] == INTERNAL_CODE
    reference = error.extensions["reference"]
    assert reference in error.message
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info, "the reference is logged with its traceback"
    assert "hunter2" in logged[0].getMessage()  # the details stay in the log
    # and the log holds the traceback once, under its reference
    assert sum(1 for r in caplog.records if r.exc_info) == 1


async def test_a_domain_error_is_not_masked() -> None:
    result = await run("{ meetings(first: 501) { totalCount } }")
    assert result.errors
    error = result.errors[0]
    assert "at most 500" in error.message
    assert error.extensions == {"code": "FIRST_TOO_LARGE", "field": "first"}


async def test_request_errors_are_not_masked() -> None:
    result = await run("{ meetings(from: 12) { totalCount } }")  # not a Date
    assert "Internal server error" not in messages(result)
    result = await run("{ nothing }")
    assert "Cannot query field 'nothing'" in messages(result)


# --- introspection, GraphiQL, production ----------------------------------------------------


async def test_introspection_can_be_turned_off() -> None:
    on = await run("{ __schema { queryType { name } } }")
    assert on.data == {"__schema": {"queryType": {"name": "Query"}}}
    off = GatewaySettings(introspection=False)
    result = await run("{ __schema { queryType { name } } }", off)
    assert "introspection" in messages(result).lower()
    assert result.data is None
    assert "introspection" in messages(await run('{ __type(name: "Query") { name } }', off))
    assert (await run("{ __typename }", off)).data == {"__typename": "Query"}


async def _get_graphql_page(settings: GatewaySettings) -> httpx.Response:
    gateway = build(settings)
    try:
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            return await client.get("/graphql", headers={"accept": "text/html"})
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()


async def test_over_http_limits_and_masking_hold(tmp_path: Path) -> None:
    """The app's own schema is built from its settings (a database never migrated here: every
    read fails inside, and the client learns nothing of it but a reference)."""
    gateway = build(
        GatewaySettings(database_url=f"sqlite:///{tmp_path / 'gateway.db'}", max_cost=100)
    )
    try:
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            costly = await client.post("/graphql", json={"query": MEETINGS})
            broken = await client.post("/graphql", json={"query": "{ regions { id } }"})
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()
    assert "cost is 153, the limit is 100" in costly.json()["errors"][0]["message"]
    error = broken.json()["errors"][0]
    assert error["extensions"]["code"] == INTERNAL_CODE
    assert "no such table" not in broken.text
    assert (
        error["message"] == f"Internal server error (reference {error['extensions']['reference']})."
    )


async def test_graphiql_off_serves_no_ide(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    on = await _get_graphql_page(GatewaySettings(database_url=url))
    assert on.status_code == 200
    assert "graphiql" in on.text.lower()
    off = await _get_graphql_page(GatewaySettings(database_url=url, graphiql=False))
    assert off.status_code == 404
    assert "graphiql" not in off.text.lower()


async def test_production_profile_turns_graphiql_and_introspection_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = GatewaySettings()
    assert (demo.profile, demo.graphiql, demo.introspection) == ("demo", True, True)
    monkeypatch.setenv("MGN_GATEWAY_PROFILE", "production")
    settings = GatewaySettings(database_url=f"sqlite:///{tmp_path / 'gateway.db'}")
    assert (settings.graphiql, settings.introspection, settings.require_token) == (
        False,
        False,
        True,
    )
    assert (await _get_graphql_page(settings)).status_code == 401  # no token: not even a page
    result = await run("{ __schema { queryType { name } } }", settings)
    assert "introspection" in messages(result).lower()
    assert settings.max_cost == 50_000  # the limits hold in every profile


@pytest.mark.parametrize("unsafe", ["GRAPHIQL", "INTROSPECTION"])
def test_production_refuses_to_start_with_graphiql_or_introspection_on(
    monkeypatch: pytest.MonkeyPatch, unsafe: str
) -> None:
    monkeypatch.setenv("MGN_GATEWAY_PROFILE", "production")
    monkeypatch.setenv(f"MGN_GATEWAY_{unsafe}", "true")
    with pytest.raises(ValidationError, match=f"MGN_GATEWAY_{unsafe}"):
        GatewaySettings()
    monkeypatch.setenv(f"MGN_GATEWAY_{unsafe}", "false")  # saying "off" is fine
    assert GatewaySettings().profile == "production"


def test_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MGN_GATEWAY_MAX_COST", "1234")
    monkeypatch.setenv("MGN_GATEWAY_MAX_DEPTH", "7")
    settings = GatewaySettings()
    assert (settings.max_cost, settings.max_depth) == (1234, 7)
    with pytest.raises(ValidationError):
        GatewaySettings(max_cost=0)
