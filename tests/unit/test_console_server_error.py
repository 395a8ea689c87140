"""A fault inside a console page: a translated 500 page (no stack trace), logged with the
request's path, and nothing the page wrote saved."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from starlette.responses import Response

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
