"""A fault inside a console page: a translated 500 page (no stack trace), logged with the
request's path, and nothing the page wrote saved."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from starlette.responses import Response
from starlette.types import Message

from services.console.accounts import StaffStore
from services.console.app import build
from services.console.settings import ConsoleSettings
from services.console.web import Ctx, Routes
from shared.runtime.credentials import NodeCredentials


async def test_a_failing_page_answers_a_translated_500_page_and_logs_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = ConsoleSettings(database_url=f"sqlite:///{tmp_path / 'console.db'}")
    app = build(settings, credentials=NodeCredentials({}))
    routes = Routes()

    @routes.get("/broken/{what}", role="public")
    async def broken(ctx: Ctx) -> Response:
        await StaffStore(ctx.db).add("ghost", role="admin", password="correct horse battery")
        raise RuntimeError("secret internals")

    app.app.router.routes[:0] = routes.starlette_routes(app.console)
    async with app.app.router.lifespan_context(app.app):
        transport = httpx.ASGITransport(app=app.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://c.test") as http:
            with caplog.at_level(logging.ERROR, logger="services.console.web"):
                fi = await http.get("/broken/x", headers={"Accept-Language": "fi"})
            en = await http.get("/broken/y", headers={"Accept-Language": "en"})
        async with app.console.sessions() as db:
            assert await StaffStore(db).by_username("ghost") is None  # rolled back
    assert fi.status_code == en.status_code == 500
    assert "Jokin meni vikaan" in fi.text
    assert "Something went wrong" in en.text
    for answer in (fi, en):
        assert "secret internals" not in answer.text
        assert "Traceback" not in answer.text
        assert answer.headers["x-frame-options"] == "DENY"
    logged = [r for r in caplog.records if "/broken/x" in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


async def test_a_client_gone_mid_form_is_no_server_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A browser that leaves while its form is on the way (the member form's live check
    superseded by the next keystroke) is logged as such, not as the console's fault."""
    settings = ConsoleSettings(database_url=f"sqlite:///{tmp_path / 'console.db'}")
    app = build(settings, credentials=NodeCredentials({}))
    routes = Routes()
    reached: list[str] = []

    @routes.post("/slow-form", role="public")
    async def slow_form(ctx: Ctx) -> Response:
        reached.append("view")
        await ctx.form()
        reached.append("form read")
        return Response("unreachable")

    app.app.router.routes[:0] = routes.starlette_routes(app.console)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/slow-form", "raw_path": b"/slow-form", "query_string": b"",
        "root_path": "", "server": ("c.test", 80), "client": ("203.0.113.7", 40000),
        "headers": [(b"host", b"c.test"),
                    (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", b"200")],
    }  # fmt: skip
    arrivals: list[Message] = [
        {"type": "http.request", "body": b"company_name=Kesken", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return arrivals.pop(0) if arrivals else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async with app.app.router.lifespan_context(app.app):
        with caplog.at_level(logging.INFO, logger="services.console.web"):
            await app.app(scope, receive, send)
    assert "form read" not in reached  # the form never arrived (CSRF reads it first)
    assert sent[0]["status"] == 400
    logged = [r for r in caplog.records if "/slow-form" in r.getMessage()]
    assert [r.levelno for r in logged] == [logging.INFO]
    assert "left mid-request" in logged[0].getMessage()
