"""The HTTP edge (shared/runtime/edge.py) of the real gateway app served by uvicorn as
``mgn service gateway`` serves it: body limits answered before the body is read, slow
headers and bodies cut off, unknown Host names refused, /healthz telling nothing without
a token, and no field suggestions while introspection is off."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from services.gateway.graphql import build_schema
from services.gateway.settings import GatewaySettings
from shared.runtime.edge import MIB, BodyLimit, allowed_hosts, server_config
from tests.unit.two_regions import REGIONS, Net, Region, served

MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Edge:
    net: Net
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def edge(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:
    mp = pytest.MonkeyPatch()
    mp.setenv("MGN_HTTP_HEADER_TIMEOUT", "0.5")
    mp.setenv("MGN_HTTP_BODY_TIMEOUT", "0.5")
    path = tmp_path_factory.mktemp("edge") / "gateway.db"
    try:
        async with served(path, [Region(r) for r in REGIONS]) as net:
            # lifespan off: the read model is there, no hub needed for these requests
            config = server_config(net.gateway.app, "127.0.0.1", 0, lifespan="off")
            server = uvicorn.Server(config)
            task = asyncio.create_task(server.serve())
            deadline = time.monotonic() + 10
            while not server.started:
                assert time.monotonic() < deadline, "uvicorn did not start"
                await asyncio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            try:
                yield Edge(net, port)
            finally:
                server.should_exit = True
                await asyncio.wait_for(task, 10)
    finally:
        mp.undo()


async def raw(port: int, data: bytes, *, wait: float = 5.0) -> tuple[bytes, float]:
    """Send ``data`` on a fresh connection; what comes back until the server closes it,
    and after how many seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(data)
    await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(-1), wait)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return answer, time.monotonic() - started


def post_head(port: int, length: int, token: str = "") -> bytes:
    auth = f"authorization: Bearer {token}\r\n" if token else ""
    return (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"{auth}content-length: {length}\r\n\r\n"
    ).encode()


@MODULE_LOOP
async def test_a_body_over_the_limit_is_refused_before_it_is_sent(edge: Edge) -> None:
    # only the headers of a 10 MiB body: the answer comes without waiting for it
    answer, took = await raw(edge.port, post_head(edge.port, 10 * MIB))
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 413 Request Entity Too Large", answer[:200]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    error = body["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "at most 1 MiB" in error["message"]
    assert "/graphql" in error["message"]
    assert took < 0.5  # not the body timeout: refused from its declared length
    async with httpx.AsyncClient(base_url=edge.url) as client:
        big = {"query": "{ viewer { role } }", "pad": "x" * (MIB + 1)}
        resp = await client.post("/graphql", json=big, headers=edge.net.auth("public"))
        assert resp.status_code == 413

        async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted as read
            for _ in range(40):
                yield b" " * 65536

        resp = await client.post(
            "/graphql",
            content=chunks(),
            headers={"content-type": "application/json", **edge.net.auth("public")},
        )
        assert resp.status_code == 413
        ok = await client.post(
            "/graphql", json={"query": "{ viewer { role } }"}, headers=edge.net.auth("public")
        )
        assert ok.json()["data"]["viewer"]["role"] == "public"


@MODULE_LOOP
async def test_slow_headers_and_slow_bodies_are_cut_off(edge: Edge) -> None:
    answer, took = await raw(edge.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert answer == b""  # closed, nothing answered
    assert 0.4 < took < 3
    # a body that stops arriving: 408 after the body timeout
    token = edge.net.tokens["public"]
    answer, took = await raw(edge.port, post_head(edge.port, 100, token) + b'{"query":')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"REQUEST_TIMEOUT" in answer
    assert 0.4 < took < 3
    # answered before its body was read (no token: 401), the rest never comes: closed
    answer, took = await raw(edge.port, post_head(edge.port, 100) + b'{"query":')
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert 0.4 < took < 3
    # an idle keep-alive connection is closed after its timeout (5 s by default): the
    # server's setting, with the connection cap
    config = server_config(edge.net.gateway.app, "127.0.0.1", 0)
    assert (config.timeout_keep_alive, config.limit_concurrency) == (5, 1000)
    assert config.ws_max_size == MIB


@MODULE_LOOP
async def test_unknown_host_names_are_refused(edge: Edge) -> None:
    async with httpx.AsyncClient(base_url=edge.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        evil = await client.get("/healthz", headers={"host": "attacker.example"})
        assert evil.status_code == 400
        local = await client.get("/healthz", headers={"host": f"localhost:{edge.port}"})
        assert local.status_code == 200
    assert allowed_hosts("10.1.2.3") == sorted({"10.1.2.3", "localhost", "127.0.0.1", "::1"})
    assert allowed_hosts("0.0.0.0", " hub.example.fi, *.mgn.fi ") == ["hub.example.fi", "*.mgn.fi"]
    assert "localhost" in allowed_hosts("0.0.0.0")


@MODULE_LOOP
async def test_healthz_tells_details_only_to_a_valid_token(edge: Edge) -> None:
    async with httpx.AsyncClient(base_url=edge.url) as client:
        bare = (await client.get("/healthz")).json()
        assert bare == {"status": "degraded"}  # (no hub in this test)
        public = (await client.get("/healthz", headers=edge.net.auth("public"))).json()
        assert public == bare
        bad = await client.get("/healthz", headers={"authorization": "Bearer mgn_x"})
        assert bad.json() == bare
        full = (await client.get("/healthz", headers=edge.net.auth("agency:oulu"))).json()
        assert {"status", "nats_connected", "consumer_running", "registrar"} <= set(full)
        full = (await client.get("/healthz", headers=edge.net.auth("researcher"))).json()
        assert "live" in full


@pytest.mark.parametrize("introspection", [True, False])
async def test_no_field_suggestions_while_introspection_is_off(introspection: bool) -> None:
    settings = GatewaySettings.model_construct(introspection=introspection)
    schema = build_schema(settings)
    queries = [
        "{ meetingz { id } }",  # field: did you mean 'meetings'?
        "{ groups(frist: 1) { totalCount } }",  # argument
        "{ copActivityTable(type: VISIT) { year } }",  # enum value
        "query($t: ActivityTyp) { copActivityTable(type: $t) { year } }",  # type
    ]
    for query in queries:
        result = await schema.execute(query)
        assert result.errors, query
        messages = " ".join(e.message for e in result.errors)
        assert ("Did you mean" in messages) is introspection, (query, messages)


async def test_a_route_may_take_a_larger_body() -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"bytes": len(await request.body())})

    app = Starlette(
        routes=[Route("/small", echo, methods=["POST"]), Route("/big", echo, methods=["POST"])]
    )
    limited = BodyLimit(app, limit=1024, routes={"/big": 4096}, body_timeout=5)
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/small", content=b"x" * 1024)).json() == {"bytes": 1024}
        assert (await client.post("/small", content=b"x" * 1025)).status_code == 413
        assert (await client.post("/big", content=b"x" * 4096)).json() == {"bytes": 4096}
        refused = await client.post("/big", content=b"x" * 4097)
        assert refused.status_code == 413
        assert "at most 4,096 bytes" in refused.json()["errors"][0]["message"]
