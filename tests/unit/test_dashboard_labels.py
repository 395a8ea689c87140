"""The dashboard page's server side: its texts come from the ``research`` catalogue in fi/sv/en
(the script uses no text the server does not send), its filters are read from the address
with bad days named, and it links to the coding page in its language."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from services.gateway.dashboard.fallback import parse_filters
from services.gateway.dashboard.routes import CSP, PANELS, STATIC, dashboard_routes
from services.gateway.dashboard.strings import page_texts
from services.gateway.statuses import InitiativeStatus
from shared.contracts.meetings import ACTIVITY_TYPES
from shared.i18n import use_language
from shared.storage import create_engine, session_factory

SCRIPT = (STATIC / "dashboard.js").read_text(encoding="utf-8")


def texts(lang: str) -> dict[str, str]:
    with use_language(lang):
        return page_texts()


def test_every_language_has_every_text_translated() -> None:
    en = texts("en")
    assert len(en) > 120
    for lang in ("fi", "sv"):
        other = texts(lang)
        assert set(other) == set(en)
        same = [k for k, v in other.items() if v == en[k] and k != "locale"]
        assert len(same) <= 5, (lang, same)  # e.g. "Status" in sv
        for key, text in en.items():  # placeholders survive translation
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", other[key]))
    assert texts("fi")["VISITS"] == "Vierailut"  # Wenger's names: shared.activity_types


def test_the_script_uses_only_texts_the_server_sends() -> None:
    known = set(texts("en"))
    used = set(re.findall(r'\bt\("(\w+)"', SCRIPT))
    used |= set(re.findall(r'\["\w+", t\("(\w+)"\)\]', SCRIPT))
    assert len(used) > 80
    assert used <= known, used - known
    wenger = re.search(r"const WENGER = \[(.*?)\];", SCRIPT, re.S)
    assert wenger
    assert re.findall(r'"(\w+)"', wenger.group(1)) == [t.upper() for t in ACTIVITY_TYPES]
    statuses = re.search(r"const STATUSES = \[(.*?)\];", SCRIPT, re.S)
    assert statuses
    assert re.findall(r'"(\w+)"', statuses.group(1)) == [s.value for s in InitiativeStatus]
    drawn = re.search(r"const PANELS = \{(.*?)\};", SCRIPT, re.S)
    assert drawn
    assert tuple(re.findall(r"^\s+(\w+): load\w+,$", drawn.group(1), re.M)) == PANELS
    assert set(PANELS) <= known  # every panel's heading


def test_filters_are_exact_days_and_bad_ones_are_named() -> None:
    en = texts("en")
    ok = parse_filters({"from": "2016-02-10", "to": "2016-07-20", "region": "oulu"}, en)
    assert (str(ok.from_), str(ok.to), ok.region, ok.group, ok.errors) == (
        "2016-02-10",
        "2016-07-20",
        "oulu",
        None,
        (),
    )
    bad = parse_filters({"from": "10.2.2016", "to": "2016-02-30"}, en)
    assert bad.from_ is None
    assert bad.to is None
    assert bad.errors == (
        "From must be a day written as YYYY-MM-DD, not 10.2.2016.",
        "To must be a day written as YYYY-MM-DD, not 2016-02-30.",
    )
    reversed_ = parse_filters({"from": "2017-01-01", "to": "2016-01-01"}, texts("fi"))
    assert (reversed_.from_, reversed_.to) == (None, None)
    assert reversed_.errors == (
        "Ensimmäinen päivä (2017-01-01) on viimeisen päivän (2016-01-01) jälkeen.",
    )


def _app(tmp_path: Path, require_token: bool = True) -> Starlette:
    sessions = session_factory(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    return Starlette(routes=dashboard_routes(sessions, require_token))


async def _get(app: Starlette, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        return await http.get(url, headers={"Accept-Language": "sv"})


@pytest.mark.parametrize(
    ("query", "lang", "text"),
    [("?lang=fi", "fi", "Tapaamisten koodaus"), ("?lang=sv", "sv", "Kodning av möten"),
     ("", "en", "Coding meetings"), ("?lang=xx", "en", "Coding meetings")],
)  # fmt: skip
async def test_the_page_links_to_the_coding_page_in_its_language(
    tmp_path: Path, query: str, lang: str, text: str
) -> None:
    page = await _get(_app(tmp_path), f"/dashboard{query}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    link = re.search(r'<a id="coding-link" href="([^"]+)">([^<]+)</a>', page.text)
    assert link, page.text
    assert page.url.join(link.group(1)) == httpx.URL(f"http://gw/dashboard/coding?lang={lang}")
    assert link.group(2) == text
    assert f'<html lang="{lang}">' in page.text


async def test_the_page_carries_its_texts_filters_and_a_notice_without_script(
    tmp_path: Path,
) -> None:
    page = await _get(_app(tmp_path), "/dashboard?lang=sv&from=2016-01-01&region=%3Cx%3E")
    assert page.status_code == 200
    block = re.search(r'<script id="texts" type="application/json">(.*?)</script>', page.text)
    assert block
    sent = json.loads(block.group(1))
    assert sent == texts("sv")
    assert "<x>" not in page.text  # the region as typed, escaped everywhere
    assert 'value="2016-01-01"' in page.text
    assert '<option value="&lt;x&gt;" selected>' in page.text
    assert 'href="?lang=fi&amp;from=2016-01-01&amp;region=%3Cx%3E"' in page.text
    assert all(f'<section id="{p}"' in page.text for p in PANELS)
    # with tokens required the page shows no figures without one: the notice says where to go
    notice = re.search(r"<noscript>(.*?)</noscript>", page.text, re.S)
    assert notice
    assert "kräver en åtkomsttoken" in notice.group(1)
    assert "<table" not in notice.group(1)


async def test_a_bad_day_is_refused_with_its_name(tmp_path: Path) -> None:
    page = await _get(_app(tmp_path), "/dashboard?from=2016-13-01")
    assert page.status_code == 400
    assert "From must be a day written as YYYY-MM-DD, not 2016-13-01." in page.text


async def test_without_tokens_the_no_script_tables_are_served_even_when_empty(
    tmp_path: Path,
) -> None:
    from services.gateway import app as gateway_app
    from shared.storage.migrations import migrate, version_table

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = create_engine(url)
    try:
        migrations = Path(gateway_app.__file__).parent / "migrations"
        await migrate(engine, migrations, version_table=version_table("gateway"))
    finally:
        await engine.dispose()
    page = await _get(_app(tmp_path, require_token=False), "/dashboard?lang=fi")
    assert page.status_code == 200
    notice = re.search(r"<noscript>(.*?)</noscript>", page.text, re.S)
    assert notice
    for table in ("noscript-meetings", "noscript-activities", "noscript-feedback"):
        assert f'<table id="{table}">' in notice.group(1)
    assert notice.group(1).count("Näillä rajauksilla ei ole tietoja.") == 3
