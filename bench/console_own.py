"""The console's own CPU per page, in process (``bench/console.py --own``): what its page
code costs (session and rights, the requests it builds, the answers it reads, the template)
without the HTTP around it and whatever the machine's load.

A console app is built in this process on a copy of the node's console database; its
backend's transport asks the node's real services once per page and records each answer,
then replays them: each page is requested ``repeat`` times over ASGI and the process's CPU
time (``time.process_time``, this process only: the services are not asked) is divided by
the requests. The HTTP server (uvicorn) and the real connections to the services are not in
it: compare with the console column of the crawl, which has them and the machine's load.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.console_node import REGION, ConsoleNode
from deploy.federation import CONSOLE, database_url_for
from services.console.app import build
from services.console.backend import SERVICES
from services.console.settings import ConsoleSettings

_NOW = re.compile(rb'"now": ?"[^"]*"')  # the home page's "now": the same request otherwise
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Replay(httpx.AsyncBaseTransport):
    """Real HTTP while ``recording``; then each request's recorded answer (a request not
    seen while recording fails: the measurement would include a real request)."""

    def __init__(self) -> None:
        self.real = httpx.AsyncHTTPTransport()
        self.answers: dict[tuple[str, bytes], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self.recording = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (str(request.url), _NOW.sub(b"", await request.aread()))
        if not self.recording:
            status, headers, content = self.answers[key]
            return httpx.Response(status, headers=headers, content=content)
        answer = await self.real.handle_async_request(request)
        content = await answer.aread()
        self.answers[key] = (answer.status_code, list(answer.headers.raw), content)
        return httpx.Response(answer.status_code, headers=answer.headers.raw, content=content)

    async def aclose(self) -> None:
        await self.real.aclose()


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the running console's SQLite database (its WAL included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)


async def own_cpu(
    node: ConsoleNode, workdir: Path, pages: Sequence[Any], repeat: int, warmup: int
) -> dict[str, float]:
    """Page name -> the console's CPU ms per request of the page, in this process."""
    url = database_url_for(None, workdir / REGION, CONSOLE, REGION)
    source = Path(url.split(":///", 1)[1])
    copy = workdir / "console-own.db"
    _copy_database(source, copy)
    services = {s: node.node.graphql_url(s).removesuffix("/graphql") for s in SERVICES}
    settings = ConsoleSettings(
        region=REGION,
        database_url=f"sqlite:///{copy}",
        public_url="https://console.bench",
        groups_url=services["groups"],
        meetings_url=services["meetings"],
        feedback_url=services["feedback"],
        leaf_monitor_url="",  # the leaf server's /leafz is not the console's page code
    )
    replay = Replay()
    app = build(settings, credentials=node.node.credentials, transport=replay)
    found: dict[str, float] = {}
    async with app.app.router.lifespan_context(app.app):
        clients = {}
        for who, (username, password) in (("facilitator", node.facilitator), ("admin", node.admin)):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app.app),
                base_url="https://console.bench",
                headers={"Accept-Language": "fi"},
            )
            signin = await http.get("/signin")
            token = CSRF.search(signin.text)
            assert token is not None, signin.status_code
            done = await http.post(
                "/signin",
                data={"username": username, "password": password, "csrf_token": token.group(1)},
            )
            assert done.status_code == 303, f"sign-in as {username}: HTTP {done.status_code}"
            clients[who] = http
        try:
            for page in pages:
                await clients[page.who].get(page.path)  # recorded
            replay.recording = False
            for page in pages:
                http = clients[page.who]
                for _ in range(warmup):
                    await http.get(page.path)
                started = time.process_time()
                for _ in range(repeat):
                    answer = await http.get(page.path)
                found[page.name] = (time.process_time() - started) * 1000 / repeat
                assert answer.status_code == page.status, (page.path, answer.status_code)
        finally:
            for http in clients.values():
                await http.aclose()
    return found
