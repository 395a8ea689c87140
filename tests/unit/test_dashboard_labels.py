"""The dashboard's labels: every text the page and its script use exists in Finnish, Swedish
and English, none is empty, and the translations are not English left in place."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from services.gateway.dashboard.routes import CSP, STATIC, dashboard_routes

LANGS = ("en", "fi", "sv")
SCRIPT = (STATIC / "dashboard.js").read_text(encoding="utf-8")
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")


def labels(lang: str, script: str = SCRIPT) -> dict[str, str]:
    """The ``I18N.<lang>`` object of dashboard.js as key -> text (strings only)."""
    block = re.search(rf"^  {lang}: {{\n(.*?)^  }},$", script, re.S | re.M)
    assert block, f"no I18N.{lang} block in dashboard.js"
    found: dict[str, str] = {}
    for key, text in re.findall(r'^    (\w+):\s*\n?\s*"((?:[^"\\]|\\.)*)",$', block.group(1), re.M):
        found[key] = text
    return found


def test_every_language_has_every_label() -> None:
    en = labels("en")
    assert len(en) > 40
    for lang in ("fi", "sv"):
        other = labels(lang)
        assert set(other) == set(en), (lang, set(en) ^ set(other))
        assert all(text.strip() for text in other.values()), lang
        same = [k for k, v in other.items() if v == en[k] and k not in ("locale",)]
        # names that are the same in every language (e.g. "Region" in sv) are few
        assert len(same) <= 3, (lang, same)
        # placeholders survive translation
        for key, text in en.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", other[key])), (
                lang,
                key,
            )


def test_the_page_and_script_only_use_known_labels() -> None:
    known = set(labels("en"))
    used = set(re.findall(r'data-i18n="(\w+)"', PAGE))
    used |= set(re.findall(r'\bt\("(\w+)"', SCRIPT))
    assert used, "the page uses labels"
    assert used <= known, used - known
    wenger = re.search(r"const WENGER = \[(.*?)\];", SCRIPT, re.S)
    assert wenger
    types = re.findall(r'"(\w+)"', wenger.group(1))
    assert len(types) == 11
    assert set(types) <= known


def test_a_missing_label_is_noticed(tmp_path: Path) -> None:
    broken = SCRIPT.replace('    refresh: "Päivitä",\n', "")
    assert "refresh" in labels("en", broken)
    assert "refresh" not in labels("fi", broken)


@pytest.mark.parametrize(
    ("query", "lang", "text"),
    [("?lang=fi", "fi", "Tapaamisten koodaus"), ("?lang=sv", "sv", "Kodning av möten"),
     ("", "en", "Coding meetings"), ("?lang=xx", "en", "Coding meetings")],
)  # fmt: skip
async def test_the_page_links_to_the_coding_page_in_its_language(
    query: str, lang: str, text: str
) -> None:
    app = Starlette(routes=dashboard_routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gw"
    ) as http:
        page = await http.get(f"/dashboard{query}", headers={"Accept-Language": "sv"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    link = re.search(r'<a id="coding-link" href="([^"]+)">([^<]+)</a>', page.text)
    assert link, page.text
    assert page.url.join(link.group(1)) == httpx.URL(f"http://gw/dashboard/coding?lang={lang}")
    assert link.group(2) == text
