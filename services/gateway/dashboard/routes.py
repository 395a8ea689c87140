"""Routes of the dashboard: the page at ``/dashboard`` and its files at ``/dashboard/static``.

The page is plain HTML, one vanilla JS file and one stylesheet (no build step, nothing from
another origin): the script asks the gateway's own ``/graphql`` and draws inline SVG charts
and tables of every research view. The server writes the page in its language (``?lang=``,
else English) from the ``research`` gettext catalogue (strings.py) and hands the script the
same texts as a JSON data block (not a script: the CSP allows none inline); it fills in the
filter form from the address (``from``, ``to``: exact days; ``region``; ``group``), so the
form works without a script too, and puts the plain tables of fallback.py in ``<noscript>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Final
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from services.gateway.dashboard.fallback import (
    Filters,
    fallback_tables,
    parse_filters,
    region_names,
)
from services.gateway.dashboard.strings import page_texts
from services.gateway.dashboard.texts import _
from shared.i18n import LANGUAGES, is_language, set_language

STATIC = Path(__file__).parent / "static"
CODING = "/dashboard/coding"  # the researchers' coding page (coding.py)
SLOT = re.compile(r"\{\{([\w-]+)\}\}")
LANGUAGE_NAMES: Final = {"fi": "Suomi", "sv": "Svenska", "en": "English"}

# The panels, in the page's order: each a research view (or two) that dashboard.js draws.
PANELS: Final = (
    "regions",
    "meetings",
    "activities",
    "feedback",
    "retention",
    "initiatives",
    "hosts",
    "health",
    "groupMonths",
    "agreement",
    "intentions",
    "cohorts",
    "firmSize",
)

# Everything comes from the gateway itself; no inline script, no other origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Sessions = async_sessionmaker[AsyncSession]


def _json_block(texts: Mapping[str, str]) -> str:
    """``texts`` as JSON safe inside ``<script type="application/json">``."""
    return json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def _language_links(lang: str, filters: Filters) -> str:
    kept = {k: v for k, v in filters.raw.items() if v}
    links = []
    for code in LANGUAGES:
        current = ' aria-current="page"' if code == lang else ""
        href = "?" + urlencode({"lang": code, **kept})
        links.append(
            f'<li><a href="{escape(href)}" hreflang="{code}" lang="{code}" data-lang="{code}"'
            f"{current}>{escape(LANGUAGE_NAMES.get(code, code))}</a></li>"
        )
    return "".join(links)


def _options(all_label: str, choices: list[tuple[str, str]], chosen: str | None) -> str:
    found = [(value, label) for value, label in choices]
    if chosen and chosen not in {value for value, _ in found}:
        found.append((chosen, chosen))  # kept as asked: the script checks it against the API
    options = [f'<option value="">{escape(all_label)}</option>']
    for value, label in found:
        selected = " selected" if value == chosen else ""
        options.append(f'<option value="{escape(value)}"{selected}>{escape(label)}</option>')
    return "".join(options)


def _scope_line(texts: Mapping[str, str], filters: Filters) -> str:
    if filters.group:
        where = texts["scopeGroup"].format(group=filters.group, region=filters.region or "–")
    elif filters.region:
        where = texts["scopeRegion"].format(region=filters.region)
    else:
        where = texts["scopeNation"]
    first, last = filters.from_, filters.to
    if first and last:
        period = texts["periodBetween"].format(**{"from": first, "to": last})
    elif first:
        period = texts["periodFrom"].format(**{"from": first})
    elif last:
        period = texts["periodTo"].format(to=last)
    else:
        period = texts["periodAll"]
    return texts["showing"].format(scope=where, period=period)


def _panels(texts: Mapping[str, str]) -> str:
    return "\n    ".join(
        f'<section id="{p}" class="panel" aria-labelledby="{p}-h">'
        f'<h2 id="{p}-h">{escape(texts[p])}</h2>'
        '<p class="status" role="status" aria-live="polite"></p>'
        '<div class="content"></div></section>'
        for p in PANELS
    )


class DashboardPage:
    def __init__(self, sessions: Sessions, require_token: bool) -> None:
        self.sessions = sessions
        self.require_token = require_token

    async def render(self, request: Request) -> Response:
        wanted = request.query_params.get("lang")
        lang = wanted if wanted and is_language(wanted) else "en"  # as dashboard.js reads it
        set_language(lang)
        texts = page_texts()
        filters = parse_filters(request.query_params, texts)
        coding = _("Coding meetings")  # outside the f-string, where Babel finds it
        if self.require_token:
            # no token comes with a page load: neither region names nor figures without one
            names: list[tuple[str, str]] = []
            noscript = f'<p class="notice">{escape(texts["noscriptToken"])}</p>'
        else:
            names = await region_names(self.sessions)
            tables = "" if filters.errors else await fallback_tables(self.sessions, filters, texts)
            notice = f'<p class="notice">{escape(texts["noscript"])}</p>'
            noscript = f'<div class="noscript">{notice}{tables}</div>'
        group_choices = [] if not filters.group else [(filters.group, filters.group)]
        slots = {
            **{k: escape(v) for k, v in texts.items()},
            "lang": lang,
            "texts-json": _json_block(texts),
            "language-links": _language_links(lang, filters),
            "coding-link": f'<a id="coding-link" href="{CODING.lstrip("/")}?lang={lang}">'
            f"{escape(coding)}</a>",
            "value-from": escape(filters.raw.get("from", "")),
            "value-to": escape(filters.raw.get("to", "")),
            "region-options": _options(texts["allRegions"], names, filters.region),
            "group-options": _options(texts["allGroups"], group_choices, filters.group),
            "scope": escape(_scope_line(texts, filters)),
            "filter-error": escape(" ".join(filters.errors)),
            "noscript": noscript,
            "panels": _panels(texts),
        }
        template = (STATIC / "index.html").read_text(encoding="utf-8")
        html = SLOT.sub(lambda m: slots.get(m[1], m[0]), template)
        return HTMLResponse(
            html,
            status_code=400 if filters.errors else 200,
            headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
        )


def dashboard_routes(sessions: Sessions, require_token: bool) -> list[BaseRoute]:
    """``/dashboard`` (the page) and ``/dashboard/static/*`` (its script and stylesheet);
    ``sessions`` read the read model for the page without JavaScript."""
    return [
        Route("/dashboard", DashboardPage(sessions, require_token).render, methods=["GET", "HEAD"]),
        Mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static"),
    ]
