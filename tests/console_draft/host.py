"""STAND-IN for the console core while it is not on main: a Starlette app serving the
member pages with the real groups, meetings and feedback services in process."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.console.node_link import NodeLink
from services.console.pages import area
from services.console.pages.names import TEMPLATE_NAMES
from services.console.pages.problems import Problem
from services.console.texts import _, ngettext
from shared.i18n.formats import format_date, format_datetime, format_number

TEMPLATES = Path(__file__).resolve().parents[2] / "services/console/templates"
BASE = """<!doctype html><html lang="fi"><head><title>{% block title %}{% endblock %}</title></head>
<body><main>{% if notice %}<p class="notice" role="status">{{ notice }}</p>{% endif %}
{% block content %}{% endblock %}</main></body></html>"""


HOME = """{% extends "base.html" %}{% block content %}{% include "home/panels.html" %}
{% endblock %}"""


@dataclass
class User:
    role: str
    group_ids: set[str]


@dataclass
class Host:
    clients: dict[str, httpx.AsyncClient]
    audits: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.DictLoader({"base.html": BASE, "home.html": HOME}),
                    jinja2.FileSystemLoader(TEMPLATES),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

        def date(value: Any) -> str:
            from datetime import date as d
            from datetime import datetime

            if isinstance(value, str):
                return format_date(
                    datetime.fromisoformat(value) if "T" in value else d.fromisoformat(value)
                )
            return format_date(value)

        def dt(value: Any) -> str:
            from datetime import datetime

            return format_datetime(
                datetime.fromisoformat(value) if isinstance(value, str) else value
            )

        self.env.globals.update(
            _=_,
            ngettext=ngettext,
            csrf_field=lambda: Markup('<input type="hidden" name="csrf" value="t">'),
            date=date,
            datetime=dt,
            number=format_number,
            urlencode=urlencode,
            **TEMPLATE_NAMES,
        )
        self.env.filters.update(TEMPLATE_NAMES)

    def user(self, request: Request) -> User | None:
        raw = request.headers.get("x-test-user")
        if not raw:
            return None
        role, _, groups = raw.partition(":")
        return User(role, {g for g in groups.split(",") if g})

    async def gql(
        self, request: Request, service: str, query: str, variables: dict[str, Any]
    ) -> Any:
        response = await self.clients[service].post(
            "/graphql", json={"query": query, "variables": variables}
        )
        body = response.json()
        if body.get("errors"):
            problems = [
                Problem.from_api({**(e.get("extensions") or {}), "message": e["message"]})
                for e in body["errors"]
            ]
            if not any(p.code for p in problems):
                raise AssertionError(body["errors"])
            raise area.Refused(problems)
        return body["data"]

    async def audit(self, request: Request, action: str, target: str, detail: str) -> None:
        self.audits.append((action, target, detail))

    def render(
        self, request: Request, template: str, status: int, context: dict[str, Any]
    ) -> Response:
        html = self.env.get_template(template).render(
            notice=request.query_params.get("notice", ""),
            is_admin=area.is_admin(request),
            date_example="7.12.2026",
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def redirect(self, request: Request, url: str, notice: str) -> Response:
        sep = "&" if "?" in url else "?"
        path, _, anchor = url.partition("#")
        return RedirectResponse(f"{path}{sep}{urlencode({'notice': notice})}", status_code=303)

    async def node_link(self, request: Request) -> NodeLink:
        from services.console.node_link import Link, ServiceHealth

        return NodeLink(Link.DOWN, (ServiceHealth("groups", True, True, 3),))


def app(host: Host) -> Starlette:
    from services.console.pages import (
        erasure,
        feedback,
        groups,
        interviews,
        member_page,
        members,
        members_import,
    )

    from services.console.pages.home_panels import home_panels

    async def home(request: Request) -> Response:
        groups = await area.visible_groups(request)
        found = await home_panels(request, groups)
        names = {g["id"]: g["name"] for g in groups}
        return area.render(request, "home.html", home=found, group_names=names)

    from starlette.routing import Route

    routes = [
        Route("/", home),
        *members_import.ROUTES,
        *members.ROUTES,
        *interviews.ROUTES,
        *member_page.ROUTES,
        *groups.ROUTES,
        *erasure.ROUTES,
        *feedback.ROUTES,
    ]
    application = Starlette(routes=routes)
    application.state.pages = host
    return application
