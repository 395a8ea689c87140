"""Every research view on the dashboard, in a real browser (issue 11, part 7): a real ``mgn
service gateway`` over a small known read model (two regions of bench's groups and meetings
with activities and surveys, and a third region, kainuu, with two coders, an initiative, a
survey and an interview), ``/dashboard`` in Debian's Chromium (Playwright).

Each panel must draw (non-empty) with the figures of the data: counted from the events here
where the definition is simple (meetings per month, activities per type, initiatives, the
coder pair), and otherwise equal to what the API answers for the same filters; the period,
region and group filters must change the numbers; the caller's role is shown; axe-core finds
no serious or critical violation; without JavaScript the page says so and shows the same
monthly meeting counts as a table."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.gateway.dashboard.routes import PANELS
from shared.contracts import Envelope, MeetingHeld, MeetingScheduled
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, service_process
from tests.e2e.test_dashboard import fill_read_model, watch, world
from tests.unit.two_regions import Region, populate

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

HELSINKI = ZoneInfo("Europe/Helsinki")
SEVERE = {"serious", "critical"}


def held_days(envelopes: Iterable[Envelope]) -> list[tuple[str, str, date]]:
    """(region, group, Helsinki day) of every held meeting, from the events."""
    scheduled: dict[str, tuple[str, str, date]] = {}
    held: list[str] = []
    for e in envelopes:
        if e.type == MeetingScheduled.TYPE:
            starts = datetime.fromisoformat(str(e.payload["starts_at"]))
            day = starts.astimezone(HELSINKI).date()
            scheduled[str(e.payload["meeting_id"])] = (e.region, str(e.payload["group_id"]), day)
        elif e.type == MeetingHeld.TYPE:
            held.append(str(e.payload["meeting_id"]))
    return [scheduled[m] for m in held]


def number(text: str) -> float:
    """A figure as the page writes it in English (1,234.5; 50%; – for none)."""
    cleaned = text.replace(",", "").replace("%", "").strip()
    return float("nan") if cleaned in ("–", "") else float(cleaned)


async def column(page: Any, table: str, col: str) -> list[str]:
    return [
        str(x)
        for x in await page.eval_on_selector_all(
            f"#{table} tbody [data-col={col}]", "cells => cells.map(c => c.textContent)"
        )
    ]


async def bars(page: Any, chart: str) -> dict[str, float]:
    found = await page.eval_on_selector_all(
        f"#{chart} rect.bar", "r => r.map(b => [b.dataset.key, +b.dataset.count])"
    )
    return {str(k): float(v) for k, v in found}


async def states(page: Any) -> dict[str, str]:
    await page.wait_for_selector("body[data-loaded=true]", timeout=60_000)
    found = await page.eval_on_selector_all(
        "section.panel", "s => s.map(x => [x.id, x.dataset.state])"
    )
    return {str(k): str(v) for k, v in found}


async def severe(page: Any) -> list[str]:
    from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]

    results = await Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [
        f"{page.url}: {v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SEVERE
    ]


def api(base: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, timeout=60
    ).json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def test_every_view_is_drawn_with_its_figures_and_filters_change_them(
    nats_hub, playwright, tmp_path, record_property
) -> None:
    envelopes, _, per_type = world()
    kainuu = Region("kainuu")
    populate(kainuu)  # two coders, an initiative, a survey, an interview
    envelopes = [*envelopes, *(e.envelope for e in kainuu.events)]
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await fill_read_model(database_url, envelopes)
    held = held_days(envelopes)
    per_month = Counter(f"{d:%Y-%m}" for _, _, d in held)
    # kainuu's three meetings are coded by two researchers each as "visits": counted once
    expected_types = {**per_type, "visits": per_type["visits"] + 3}
    kainuu_group = kainuu.first["group"]

    gateway = service_process(tmp_path, "gateway", database_url, nats_hub.client_url)
    gateway.spawn()
    errors: list[str] = []
    started = time.monotonic()
    try:
        gateway.wait_healthy(timeout=60)
        base = gateway.health_url.removesuffix("/healthz")
        async with playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                watch(page, errors)
                await page.goto(f"{base}/dashboard")
                drawn = await states(page)
                assert drawn == dict.fromkeys(PANELS, "ready"), await page.inner_text("main")

                # the caller: no token (the demo) is a national researcher
                assert await page.get_attribute("#viewer", "data-role") == "researcher"
                assert "researcher" in await page.inner_text("#viewer")

                # meetings per month: the held meetings of the events, months filled with 0
                chart = await bars(page, "meetings-chart")
                assert {k: v for k, v in chart.items() if v} == dict(per_month)
                assert sum(chart.values()) == len(held)

                # CoP activities: each meeting's counted coder only
                chart = await bars(page, "activities-chart")
                assert len(chart) == 11
                assert {k.lower(): v for k, v in chart.items() if v} == expected_types

                # feedback by the month of the surveyed meeting (4 surveys, 4 months)
                feedback = api(base, "{ feedbackTrend { month responses meanOverall } }")
                months = [m["month"] for m in feedback["feedbackTrend"] if m["responses"]]
                assert len(months) == 4
                assert await column(page, "feedback-table", "month") == months
                assert await page.locator("#feedback-chart circle.dot-0").count() == 4
                overall = [
                    round(m["meanOverall"], 2) for m in feedback["feedbackTrend"] if m["responses"]
                ]
                shown = [number(x) for x in await column(page, "feedback-table", "overall")]
                assert shown == overall
                assert 4.0 in overall  # kainuu's 3, 4, 5

                # initiatives: kainuu's one, completed
                assert await bars(page, "initiatives-chart") == {
                    "ACTIVE": 0,
                    "PAUSED": 0,
                    "COMPLETED": 1,
                    "ABANDONED": 0,
                }

                # coding agreement: kainuu's pair on 3 meetings, all "visits": kappa 1.00
                assert [number(x) for x in await column(page, "agreement-table", "meetings")] == [3]
                assert await column(page, "agreement-table", "kappa") == ["1.00"]

                # growth intentions: kainuu's interview in 2024, intends to grow
                assert await column(page, "intentions-year", "period") == ["2024"]
                assert await column(page, "intentions-year", "yes") == ["1"]

                # the views without a simple count here: the page shows what the API answers
                retention = api(base, "{ retention { year membersEnd } }")["retention"]
                assert [
                    int(number(x)) for x in await column(page, "retention-table", "membersEnd")
                ] == [y["membersEnd"] for y in retention]
                hosts = api(
                    base,
                    "{ hostRotation(first: 100) { edges { node { meetingsHosted } } } }",
                )
                nodes = [e["node"] for e in hosts["hostRotation"]["edges"]]
                assert [int(number(x)) for x in await column(page, "hosts-table", "hosted")] == [
                    n["meetingsHosted"] for n in nodes
                ]
                health = api(
                    base, "{ groupHealth(first: 100) { edges { node { longestStreak } } } }"
                )
                assert [
                    int(number(x)) for x in await column(page, "health-table", "longestStreak")
                ] == [e["node"]["longestStreak"] for e in health["groupHealth"]["edges"]]
                months_page = api(
                    base,
                    "{ groupMonths(first: 100) { totalCount edges { node { meetingsHeld } } } }",
                )
                assert [
                    int(number(x)) for x in await column(page, "groupMonths-table", "held")
                ] == [e["node"]["meetingsHeld"] for e in months_page["groupMonths"]["edges"]]
                cohorts = api(base, "{ retentionByCohort { cohort joined } }")["retentionByCohort"]
                assert await column(page, "cohorts-table", "cohort") == [
                    str(c["cohort"]) for c in cohorts
                ]
                firms = api(base, "{ firmSizeByYear { year firms } }")["firmSizeByYear"]
                assert await bars(page, "firmSize-chart") == {
                    str(f["year"]): f["firms"] for f in firms
                }
                assert len(await page.locator("#regions tr[data-region]").all()) == 3

                found = await severe(page)

                # the period filter, through the form: exact days, never widened
                first, last = date(2016, 2, 10), date(2016, 7, 20)
                in_period = [d for _, _, d in held if first <= d <= last]
                assert 0 < len(in_period) < len(held)
                await page.fill("#from", first.isoformat())
                await page.fill("#to", last.isoformat())
                await page.get_by_role("button", name="Show").click()
                await page.wait_for_url(re.compile(r"from=2016-02-10&to=2016-07-20"))
                await states(page)
                chart = await bars(page, "meetings-chart")
                assert sum(chart.values()) == len(in_period)
                assert min(chart) == "2016-02"
                assert max(chart) == "2016-07"
                assert "2016-02-10" in await page.inner_text("#scope")

                # the region filter: oulu's meetings only; its groups are offered
                await page.goto(f"{base}/dashboard?region=oulu")
                await states(page)
                oulu = [d for r, _, d in held if r == "oulu"]
                assert sum((await bars(page, "meetings-chart")).values()) == len(oulu)
                assert await page.input_value("#region") == "oulu"
                assert await page.locator("#group option").count() > 1

                # the group filter: kainuu's one group, its three held meetings
                await page.goto(f"{base}/dashboard?region=kainuu")
                await states(page)
                await page.select_option("#group", kainuu_group)
                await page.get_by_role("button", name="Show").click()
                await page.wait_for_url(re.compile("group="))
                drawn = await states(page)
                assert sum((await bars(page, "meetings-chart")).values()) == 3
                assert await bars(page, "activities-chart") == {
                    **dict.fromkeys(await _wenger(page), 0),
                    "VISITS": 3,
                }
                assert await column(page, "hosts-table", "group") != []
                assert drawn["regions"] == "ready"
                found += await severe(page)

                # Finnish: the server's catalogue, in the page and in the script's texts
                await page.goto(f"{base}/dashboard?lang=fi&region=kainuu")
                await states(page)
                assert await page.inner_text("#feedback-h") == "Palaute tapaamiskuukausittain"
                assert "tutkija" in await page.inner_text("#viewer")
                assert "Vierailut" in (await page.text_content("#activities-chart") or "")
                found += await severe(page)
                assert not found, found
            finally:
                await browser.close()

            # without JavaScript: the notice, and the same monthly counts as a plain table
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = await browser.new_context(java_script_enabled=False)
                page = await context.new_page()
                await page.goto(f"{base}/dashboard?region=oulu")
                assert "JavaScript" in await page.inner_text(".notice")
                rows = await page.eval_on_selector_all(
                    "#noscript-meetings tbody tr",
                    "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
                )
                assert {m: int(n) for m, n in rows if int(n)} == dict(
                    Counter(f"{d:%Y-%m}" for d in oulu)
                )
                assert await page.locator("main").is_hidden()
            finally:
                await browser.close()
    finally:
        gateway.stop()
    record_property("seconds", round(time.monotonic() - started, 1))
    assert not errors, errors


async def _wenger(page: Any) -> list[str]:
    found = await page.eval_on_selector_all(
        "#activities-chart rect.bar", "r => r.map(b => b.dataset.key)"
    )
    return [str(k) for k in found]
