"""Who may see what (no NATS): tokens, roles and the guard on every object type, on pages,
nested lookups and lookups by id, over the schema and over HTTP with real tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from sqlalchemy import select

from services.gateway.app import build
from services.gateway.auth import (
    ANONYMOUS,
    AccessDenied,
    Guard,
    Level,
    Role,
    TokenError,
    create_token,
    list_tokens,
    resolve_token,
    revoke_token,
)
from services.gateway.graphql import GatewayContext, schema
from services.gateway.graphql.cursor import TEXT
from services.gateway.graphql.loaders import Loaders
from services.gateway.graphql.pagination import Listing, paginate
from services.gateway.orm import access_tokens, groups, metadata
from services.gateway.settings import GatewaySettings
from shared.storage import create_schema
from tests.unit.test_gateway_research_graphql import World, fresh_world  # noqa: F401
from tests.unit.test_gateway_research_graphql import world as research_world  # noqa: F401

RESEARCHER = Guard(Role.RESEARCHER)
OULU = Guard(Role.AGENCY, "oulu")
LAPPI = Guard(Role.AGENCY, "lappi")
PUBLIC = Guard(Role.PUBLIC)
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the tests on the shared world


@pytest.fixture
def net(research_world: World) -> World:  # noqa: F811
    """oulu (group Beta, surveys) and lappi (group Gamma, interviews): see research tests;
    built once per module and database, only read (tests in :data:`MODULE_LOOP`)."""
    return research_world


# every connection of raw rows, with the regions the net has rows of
CONNECTIONS = {
    "groups": "region",
    "members": "region",
    "meetings": "region",
    "activities": "region",
    "initiatives": "region",
    "memos": "region",
    "surveys": "region",
    "interviews": "region",
}
WORLD_REGIONS = {
    "groups": {"oulu", "lappi"},
    "members": {"oulu", "lappi"},
    "meetings": {"oulu", "lappi"},
    "activities": {"oulu", "lappi"},
    "initiatives": {"oulu", "lappi"},
    "memos": {"oulu", "lappi"},
    "surveys": {"oulu"},
    "interviews": {"lappi"},
}


async def run(w: World, guard: Guard, query: str, **variables: Any) -> Any:
    return await schema.execute(
        query,
        variable_values=variables,
        context_value=GatewayContext.create(w.sessions, guard=guard),
    )


def codes(result: Any) -> list[str]:
    return [e.extensions.get("code") for e in result.errors or []]


def test_levels_of_each_role() -> None:
    assert RESEARCHER.level("oulu") == RESEARCHER.level(None) == Level.FULL
    assert OULU.level("oulu") == Level.FULL
    assert OULU.level("lappi") == OULU.level(None) == Level.REGIONAL
    assert PUBLIC.level("oulu") == PUBLIC.level(None) == Level.NATIONAL
    assert OULU.allows(Level.REGIONAL, "lappi")
    assert not OULU.allows(Level.FULL, "lappi")
    assert PUBLIC.allows(Level.NATIONAL)
    assert not PUBLIC.allows(Level.REGIONAL, "oulu")
    with pytest.raises(AccessDenied, match=r"agency \(region oulu\).*own region oulu"):
        OULU.require(Level.FULL, "lappi", "members")
    with pytest.raises(ValueError, match="agency token needs its region"):
        Guard(Role.AGENCY)
    with pytest.raises(ValueError, match="other roles take none"):
        Guard(Role.PUBLIC, "oulu")


@pytest.mark.parametrize("field", sorted(CONNECTIONS))
@MODULE_LOOP
async def test_each_connection_is_guarded_by_role(net: World, field: str) -> None:
    query = (
        f"query($region: String) {{ {field}(region: $region, first: 500) "
        "{ totalCount edges { node { region } } } }"
    )

    async def regions(guard: Guard, **variables: Any) -> tuple[set[str], int]:
        result = await run(net, guard, query, **variables)
        assert result.errors is None, result.errors
        page = result.data[field]
        return {e["node"]["region"] for e in page["edges"]}, page["totalCount"]

    everything, total = await regions(RESEARCHER)
    assert everything == WORLD_REGIONS[field]
    for agency in (OULU, LAPPI):
        seen, count = await regions(agency)
        assert seen == WORLD_REGIONS[field] & {agency.region}
        assert count <= total
        if seen:  # its own region named explicitly: the same rows
            assert (await regions(agency, region=agency.region))[0] == seen
        other = "lappi" if agency is OULU else "oulu"
        refused = await run(net, agency, query, region=other)
        assert codes(refused) == ["FORBIDDEN"]
        assert f"region {other}" in refused.errors[0].message
    public = await run(net, PUBLIC, query)
    assert codes(public) == ["FORBIDDEN"]
    assert "national aggregates only" in public.errors[0].message


@pytest.mark.parametrize(
    ("field", "key"), [("group", "beta"), ("member", "paused"), ("meeting", None)]
)
@MODULE_LOOP
async def test_lookups_by_id_check_the_objects_region(
    net: World, field: str, key: str | None
) -> None:
    if key is None:  # a meeting of oulu's group Beta
        page = await run(
            net, RESEARCHER, '{ meetings(region: "oulu", first: 1) { edges { node { id } } } }'
        )
        ident = page.data["meetings"]["edges"][0]["node"]["id"]
    else:
        ident = net.ids[key]
    query = f"query($id: ID!) {{ {field}(id: $id) {{ id region }} }}"
    for allowed in (RESEARCHER, OULU):
        result = await run(net, allowed, query, id=ident)
        assert result.errors is None, result.errors
        assert result.data[field] == {"id": ident, "region": "oulu"}
    for refused in (LAPPI, PUBLIC):
        result = await run(net, refused, query, id=ident)
        assert codes(result) == ["FORBIDDEN"]
        assert ident in result.errors[0].message
    unknown = await run(net, OULU, query, id="00000000-0000-0000-0000-000000000000")
    assert unknown.errors is None
    assert unknown.data[field] is None


@MODULE_LOOP
async def test_nested_lookups_through_loaders_stop_at_the_guard(net: World) -> None:
    """A loader never hands out a row of a region the caller may not see in full."""
    beta = net.ids["beta"]
    assert (await Loaders.create(net.sessions, OULU).group.load(beta)) is not None
    assert (await Loaders.create(net.sessions, LAPPI).group.load(beta)) is None
    assert (await Loaders.create(net.sessions, PUBLIC).member.load(net.ids["paused"])) is None
    history = Loaders.create(net.sessions, LAPPI).member_history
    assert await history.load(net.ids["paused"]) == []
    assert len(await Loaders.create(net.sessions, OULU).member_history.load(net.ids["paused"])) == 2
    # and through GraphQL: the agency's own meetings resolve their group, host and activities
    query = """{ meetings(first: 50) { edges { node {
        region group { region } host { region } activities { region } } } } }"""
    result = await run(net, LAPPI, query)
    assert result.errors is None, result.errors
    nodes = [e["node"] for e in result.data["meetings"]["edges"]]
    assert nodes
    assert {n["group"]["region"] for n in nodes} == {"lappi"}
    assert {n["host"]["region"] for n in nodes} == {"lappi"}
    assert {a["region"] for n in nodes for a in n["activities"]} == {"lappi"}


@MODULE_LOOP
async def test_region_counts_are_aggregates_the_public_does_not_see(net: World) -> None:
    query = "{ regions { id groupCount memberCount meetingCount } }"
    for guard in (RESEARCHER, OULU, LAPPI):  # an agency sees other regions' aggregates
        result = await run(net, guard, query)
        assert result.errors is None, result.errors
        counts = {r["id"]: r["meetingCount"] for r in result.data["regions"]}
        assert counts == {"oulu": 6, "lappi": 2}
    public = await run(net, PUBLIC, "{ regions { id displayName } }")
    assert public.errors is None  # the list of regions and their freshness is public
    refused = await run(net, PUBLIC, "{ regions { id groupCount } }")
    assert set(codes(refused)) == {"FORBIDDEN"}
    viewer = await run(net, OULU, "{ viewer { role region tokenId } }")
    assert viewer.data["viewer"] == {"role": "agency", "region": "oulu", "tokenId": None}


async def test_tokens_are_hashed_shown_once_resolved_and_revoked(fresh_world: World) -> None:  # noqa: F811
    net = fresh_world  # it writes: a world of its own
    issued = await create_token(net.sessions, "agency", "oulu", "Oulu PBAS")
    assert issued.token.startswith(f"mgn_{issued.info.id}_")
    async with net.sessions() as session:
        stored = (await session.execute(select(access_tokens))).one()
    assert issued.token not in [str(v) for v in stored]  # only its sha256
    assert len(stored.token_hash) == 64
    guard = await resolve_token(net.sessions, issued.token)
    assert guard == Guard(Role.AGENCY, "oulu", token_id=issued.info.id)
    with pytest.raises(TokenError, match="unknown token"):
        await resolve_token(net.sessions, issued.token[:-4] + "AAAA")
    with pytest.raises(TokenError, match="malformed token"):
        await resolve_token(net.sessions, "letmein")
    revoked = await revoke_token(net.sessions, issued.info.id)
    assert revoked.revoked_at is not None
    with pytest.raises(TokenError, match=f"token {issued.info.id} was revoked"):
        await resolve_token(net.sessions, issued.token)
    again = await revoke_token(net.sessions, issued.token)  # by the token itself, idempotent
    assert again.revoked_at == revoked.revoked_at
    [listed] = await list_tokens(net.sessions)
    assert (listed.id, listed.role, listed.region, listed.label) == (
        issued.info.id,
        Role.AGENCY,
        "oulu",
        "Oulu PBAS",
    )
    with pytest.raises(TokenError, match="no token with id 'nope'"):
        await revoke_token(net.sessions, "nope")


@pytest.mark.parametrize(
    ("role", "region", "message"),
    [
        ("admin", None, "unknown role 'admin'"),
        ("agency", None, "agency token needs --region"),
        ("agency", "Not A Region", "invalid region id"),
        ("public", "oulu", "public token takes no --region"),
    ],
)
@MODULE_LOOP
async def test_bad_token_requests_are_refused_clearly(
    net: World, role: str, region: str | None, message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        await create_token(net.sessions, role, region)


async def _http_gateway(tmp_path: Path, *, require: bool) -> Any:
    gateway = build(
        GatewaySettings(database_url=f"sqlite:///{tmp_path / 'gw.db'}", require_token=require)
    )
    await create_schema(gateway.engine, metadata)
    return gateway


async def test_over_http_tokens_decide_and_bad_ones_get_401(tmp_path: Path) -> None:
    gateway = await _http_gateway(tmp_path, require=True)
    try:
        agency = await create_token(gateway.sessions, "agency", "oulu")
        public = await create_token(gateway.sessions, "public")
        revoked = await create_token(gateway.sessions, "researcher")
        await revoke_token(gateway.sessions, revoked.info.id)
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:

            async def post(query: str, token: str | None) -> httpx.Response:
                headers = {} if token is None else {"authorization": f"Bearer {token}"}
                return await client.post("/graphql", json={"query": query}, headers=headers)

            viewer = "{ viewer { role region tokenId } }"
            missing = await post(viewer, None)
            assert missing.status_code == 401
            assert "requires a token" in missing.json()["errors"][0]["message"]
            assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            gone = await post(viewer, revoked.token)
            assert gone.status_code == 401
            assert "was revoked" in gone.json()["errors"][0]["message"]
            unknown = await post(viewer, "mgn_000000000000_" + "x" * 43)
            assert unknown.status_code == 401
            assert "unknown token" in unknown.json()["errors"][0]["message"]
            bad = await client.post(
                "/graphql", json={"query": viewer}, headers={"authorization": "Basic x"}
            )
            assert bad.status_code == 401
            assert "Bearer <token>" in bad.json()["errors"][0]["message"]
            ok = await post(viewer, agency.token)
            assert ok.json()["data"]["viewer"] == {
                "role": "agency",
                "region": "oulu",
                "tokenId": agency.info.id,
            }
            refused = await post("{ groups { totalCount } }", public.token)
            assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert (await client.get("/exports", headers={})).status_code == 401
            health = await client.get("/healthz")  # not behind tokens
            assert health.status_code == 200
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()


async def test_without_require_token_no_token_means_researcher(tmp_path: Path) -> None:
    gateway = await _http_gateway(tmp_path, require=False)
    try:
        transport = httpx.ASGITransport(app=gateway.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            resp = await client.post("/graphql", json={"query": "{ viewer { role tokenId } }"})
            assert resp.json()["data"]["viewer"] == {"role": "researcher", "tokenId": None}
            # a token sent anyway is still checked
            resp = await client.post(
                "/graphql",
                json={"query": "{ viewer { role } }"},
                headers={"authorization": "Bearer mgn_000000000000_" + "x" * 43},
            )
            assert resp.status_code == 401
    finally:
        await gateway.engine.dispose()
        await gateway.read_engine.dispose()


def test_production_requires_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("MGN_GATEWAY_PROFILE", "production")
    assert GatewaySettings().require_token is True
    monkeypatch.setenv("MGN_GATEWAY_REQUIRE_TOKEN", "false")
    with pytest.raises(ValidationError, match="MGN_GATEWAY_REQUIRE_TOKEN"):
        GatewaySettings()
    assert GatewaySettings.model_construct().require_token is False  # the demo default
    assert ANONYMOUS.role is Role.RESEARCHER


@MODULE_LOOP
async def test_a_listing_of_aggregates_declares_the_level_it_needs(net: World) -> None:
    """A research view's per-region rows are aggregates (Level.REGIONAL): an agency sees
    every region's, the public none; national rows (Level.NATIONAL) everyone sees."""
    order, parsers = ("region", "name", "id"), (TEXT, TEXT, TEXT)
    regional = Listing("groups", groups, order, parsers, level=Level.REGIONAL)
    national = Listing("groups", groups, order, parsers, level=Level.NATIONAL)

    async def regions(listing: Listing, guard: Guard, region: str | None = None) -> set[str]:
        page = await paginate(
            net.sessions, listing, [], 50, None, lambda r: r.region, guard=guard, region=region
        )
        return {e.node for e in page.edges}

    assert await regions(regional, OULU) == {"oulu", "lappi"}
    assert await regions(regional, OULU, "lappi") == {"oulu", "lappi"}  # filter is the caller's
    with pytest.raises(GraphQLError, match="national aggregates only"):
        await regions(regional, PUBLIC)
    assert await regions(national, PUBLIC) == {"oulu", "lappi"}
    assert PUBLIC.regions_at(Level.NATIONAL) is None
    assert OULU.regions_at(Level.REGIONAL) is None
    assert OULU.regions_at(Level.FULL) == frozenset({"oulu"})
    assert PUBLIC.regions_at(Level.REGIONAL) == frozenset()
