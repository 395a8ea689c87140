"""Helpers shared by the end-to-end tests: GraphQL clients, processes, database reads."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from nats.js import JetStreamContext
from sqlalchemy import Table, func, select
from starlette.applications import Starlette

from deploy.natsserver import free_port
from deploy.processes import ServiceProcess
from shared.contracts import Envelope
from shared.messaging.inbox import processed_ids
from shared.messaging.tables import MessagingTables
from shared.storage import AsyncSession, create_engine
from tests.fixtures.credentials import headers_for


class Api:
    """POST GraphQL to an app (in process) or a service (over HTTP); fail on errors."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        resp = await self.client.post("/graphql", json={"query": query, "variables": variables})
        body = resp.json()
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data


async def serve(stack: AsyncExitStack, app: Starlette) -> Api:
    """Run ``app``'s lifespan inside ``stack`` and give a GraphQL client of it."""
    await stack.enter_async_context(app.router.lifespan_context(app))
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=headers_for(app)
    )
    await stack.enter_async_context(client)
    return Api(client)


CREATE_GROUP = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
ADD_MEMBER = "mutation($i: AddMemberInput!) { addMember(input: $i) { id } }"


async def create_group(api: Api, name: str) -> str:
    data = await api(
        CREATE_GROUP, i={"name": name, "municipality": "Oulu", "foundedOn": "2015-02-01"}
    )
    return str(data["createGroup"]["id"])


async def add_member(api: Api, group_id: str, name: str) -> str:
    data = await api(
        ADD_MEMBER,
        i={
            "groupId": group_id,
            "companyName": name,
            "employees": 3,
            "turnoverEur": 400_000,
            "joinedOn": "2015-02-01",
        },
    )
    return str(data["addMember"]["id"])


def service_process(
    workdir: Path, service: str, database_url: str, nats_url: str, *, region: str | None = None
) -> ServiceProcess:
    """``mgn service <service> ...`` as a child process on a free port (not started)."""
    port = free_port()
    args = ["service", service, "--db", database_url, "--nats", nats_url, "--port", str(port)]
    if region is not None:
        args += ["--region", region]
    return ServiceProcess(
        name=f"{region or 'hub'}/{service}",
        args=args,
        log_path=workdir / "logs" / f"{region or 'hub'}-{service}.log",
        health_url=f"http://127.0.0.1:{port}/healthz",
    )


async def sigkill(process: ServiceProcess) -> None:
    """SIGKILL the process by its own pid and wait until it is gone (no clean shutdown)."""
    pid = process.pid
    assert pid is not None, f"{process.name} was not started"
    assert process.running, f"{process.name} is not running"
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        if not process.running:  # poll() reaps it
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{process.name} (pid {pid}) survived SIGKILL")


class Database:
    """Looks into a service's database from the test."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, sqlite_immediate=False)

    async def column(self, table: Table, column: str) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(table.c[column]))).scalars())

    async def count(self, table: Table, *where: Any) -> int:
        async with self.engine.connect() as conn:
            stmt = select(func.count()).select_from(table)
            for clause in where:
                stmt = stmt.where(clause)
            return int((await conn.execute(stmt)).scalar_one())

    async def processed(self, tables: MessagingTables, envelopes: Sequence[Envelope]) -> set[str]:
        """The ids of those of ``envelopes`` the service recorded as processed."""
        async with AsyncSession(self.engine) as session:
            return await processed_ids(session, tables, envelopes)

    async def execute(self, statement: Any) -> None:
        """Write, in a transaction of its own (to stage a crash's leftovers)."""
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def close(self) -> None:
        await self.engine.dispose()


async def stream_msg_ids(js: JetStreamContext, stream: str) -> list[str]:
    """The Nats-Msg-Id of every message in the stream, in stream order."""
    info = await js.stream_info(stream)
    if not info.state.messages:
        return []
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
    return ids


class RecordingProxy:
    """A TCP proxy on a free local port that forwards to ``target_port`` and keeps every byte
    it carries, each direction apart: what a capture of the link would see."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self.upstream = bytearray()  # client -> server
        self.downstream = bytearray()  # server -> client
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def captured(self) -> bytes:
        return bytes(self.upstream + self.downstream)

    async def __aenter__(self) -> RecordingProxy:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.close()
            return
        pairs = ((reader, up_writer, self.upstream), (up_reader, writer, self.downstream))
        for src, dst, sink in pairs:
            task = asyncio.create_task(self._pump(src, dst, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, sink: bytearray) -> None:
        try:
            while data := await src.read(65536):
                sink += data
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            dst.close()


def free_ports_in_a_row(count: int, attempts: int = 50) -> int:
    """The first of ``count`` consecutive free ports on 127.0.0.1 (for ``--base-port``)."""
    import socket

    from deploy.natsserver import free_port

    for _ in range(attempts):
        first = free_port()
        socks = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found")


# -- a browser: Debian's chromium driven by Playwright -----------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PAGE_TIMEOUT_MS = 120_000  # every wait of a page: 2 cores shared at load 10+ (not 30 s)


async def open_page(browser: Any, **options: Any) -> Any:
    """A new page of ``browser`` whose clicks, navigations and waits allow PAGE_TIMEOUT_MS
    (Playwright's 30 s default was exceeded by a form's answer under load)."""
    page = await browser.new_page(**options)
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    return page


def unavailable(reason: str) -> NoReturn:
    """Skip, except in CI (CI=true) where a missing browser is a broken setup."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs it)")
    pytest.skip(reason)


async def serve_http(stack: AsyncExitStack, app: Starlette, port: int) -> str:
    """Serve ``app`` (its lifespan inside ``stack``) over HTTP on 127.0.0.1:``port`` with
    uvicorn in this event loop; its base URL."""
    import uvicorn

    await stack.enter_async_context(app.router.lifespan_context(app))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def stop() -> None:
        server.should_exit = True
        await task

    stack.push_async_callback(stop)
    for _ in range(400):
        if server.started or task.done():
            break
        await asyncio.sleep(0.05)
    assert server.started, f"nothing serves on port {port}"
    return f"http://127.0.0.1:{port}"
