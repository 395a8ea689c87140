"""The dashboard in a real browser (issue "national API", part 7): a real ``mgn service
gateway`` process over a read model filled by projecting events directly, its ``/dashboard``
opened in headless Chromium (Debian's, driven by Playwright); the charts must match the data,
the language switch must work, and the screenshot must show drawn charts."""

from __future__ import annotations

import struct
import time
import uuid
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.events import region_events
from services.gateway import app as gateway_app
from services.gateway.auth import create_token
from services.gateway.projections import project
from services.gateway.settings import GatewaySettings
from shared.contracts import (
    ActivityRecorded,
    Envelope,
    Event,
    MeetingScheduled,
    RegionAnnounced,
    ResponseSubmitted,
    SurveyClosed,
    SurveyOpened,
    decode,
    encode,
    make_envelope,
)
from shared.storage import create_engine, session_factory
from shared.storage.migrations import migrate, version_table
from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, service_process

pytestmark = pytest.mark.e2e

BAR_RGB = (0x1F, 0x5F, 0x99)  # --accent in dashboard.css: the bars' fill


# -- the data ------------------------------------------------------------------------------


def _env(event: Event, region: str, aggregate: uuid.UUID, at: datetime) -> Envelope:
    return make_envelope(event, region=region, aggregate_id=aggregate, sequence=1, occurred_at=at)


def world() -> tuple[list[Envelope], Counter[str], Counter[str]]:
    """Two regions' groups, members and meetings (bench's generator), their announcements,
    CoP activities and three surveys. Returns the envelopes, meetings per month
    (``YYYY-MM``) and activities per type."""
    now = datetime.now(UTC)
    envelopes = [
        _env(
            RegionAnnounced(display_name="Oulu", agency="BusinessOulu"), "oulu", uuid.uuid4(), now
        ),
        _env(RegionAnnounced(display_name="Lappi"), "lappi", uuid.uuid4(), now),
        *region_events("oulu", 200, seed=1),
        *region_events("lappi", 120, seed=2),
    ]
    scheduled = [e for e in envelopes if e.type == MeetingScheduled.TYPE]
    per_month = Counter(f"{e.payload['starts_at'][:7]}" for e in scheduled)
    kinds = ["problem_solving"] * 5 + ["reusing_assets"] * 3 + ["visits"]
    for kind, meeting in zip(kinds, scheduled, strict=False):
        activity = uuid.uuid4()
        envelopes.append(
            _env(
                ActivityRecorded(
                    activity_id=activity,
                    meeting_id=meeting.payload["meeting_id"],
                    group_id=meeting.payload["group_id"],
                    activity_type=kind,  # type: ignore[arg-type]
                    example=f"{kind} in the meeting",
                ),
                meeting.region,
                activity,
                now,
            )
        )
    for i, (meeting, scores) in enumerate(
        zip(scheduled, [(5, 4, 4), (3, 4, 2), (5, 5, 4)], strict=False)
    ):
        survey, opened = uuid.uuid4(), datetime(2024, 1 + i, 10, tzinfo=UTC)
        ids = {k: meeting.payload[k] for k in ("meeting_id", "group_id")}
        envelopes.append(
            _env(
                SurveyOpened(
                    survey_id=survey, invited=5, closes_at=opened + timedelta(days=7), **ids
                ),
                meeting.region,
                survey,
                opened,
            )
        )
        for score in scores:
            response = uuid.uuid4()
            submitted = ResponseSubmitted(
                response_id=response,
                survey_id=survey,
                overall=score,
                usefulness=score - 1,
                recommend=score * 2,
                **ids,
            )
            envelopes.append(_env(submitted, meeting.region, response, opened))
        # the feedback views count a survey once it has closed with 3+ responses
        closed = SurveyClosed(invited=5, survey_id=survey, responses=len(scores), **ids)
        envelopes.append(
            make_envelope(
                closed,
                region=meeting.region,
                aggregate_id=survey,
                sequence=2,
                occurred_at=opened + timedelta(days=8),
            )
        )
    return envelopes, per_month, Counter(kinds)


async def fill_read_model(database_url: str, envelopes: list[Envelope]) -> None:
    engine = create_engine(database_url)
    try:
        migrations = Path(gateway_app.__file__).parent / "migrations"
        await migrate(engine, migrations, version_table=version_table("gateway"))
        async with session_factory(engine)() as session, session.begin():
            await project(session, [decode(encode(e)) for e in envelopes])
    finally:
        await engine.dispose()


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while True:
        key = f"{year:04d}-{month:02d}"
        out.append(key)
        if key == last:
            return out
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


# -- PNG, by hand (no Pillow here) ---------------------------------------------------------


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit RGB/RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0), (depth, interlace)
    assert colour in (2, 6), colour
    bpp = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def colours(data: bytes) -> Counter[tuple[int, ...]]:
    width, _, rows = png_pixels(data)
    bpp = len(rows[0]) // width
    return Counter(tuple(row[i : i + 3]) for row in rows for i in range(0, len(row), bpp))


def watch(page: Any, errors: list[str]) -> None:
    """Collect the page's script errors, console errors and failed requests into ``errors``."""

    def console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    def response(resp: Any) -> None:
        if resp.status >= 400:
            errors.append(f"HTTP {resp.status} {resp.url}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", response)


# -- the test ------------------------------------------------------------------------------


@pytest.mark.nats
async def test_dashboard_draws_the_read_model_in_a_browser(
    nats_hub, playwright, tmp_path, record_property
) -> None:
    envelopes, per_month, per_type = world()
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await fill_read_model(database_url, envelopes)
    months = months_between(min(per_month), max(per_month))

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
                await page.wait_for_selector("body[data-loaded=true]", timeout=30_000)

                # These panels drew (no error, no "no data"); none failed (this world has
                # no initiatives, coders or interviews: those panels say "no data").
                states = dict(
                    await page.eval_on_selector_all(
                        "section.panel", "s => s.map(x => [x.id, x.dataset.state])"
                    )
                )
                main = ("regions", "meetings", "activities", "feedback")
                assert {k: states[k] for k in main} == dict.fromkeys(main, "ready"), states
                assert set(states.values()) == {"ready", "empty"}, await page.inner_text("main")

                # Regions with their freshness.
                regions = await page.inner_text("#regions table")
                assert "Oulu" in regions, regions
                assert "Lappi" in regions, regions
                assert await page.locator("#regions tr[data-region]").count() == 2

                # Meetings: one bar per month from the first meeting's to the last's.
                bars = await page.eval_on_selector_all(
                    "#meetings-chart rect.bar", "r => r.map(b => [b.dataset.key, +b.dataset.count])"
                )
                assert [key for key, _ in bars] == months
                assert dict(bars) == {m: per_month.get(m, 0) for m in months}
                label = await page.get_attribute("#meetings-chart", "aria-label")
                assert label
                assert f"{sum(per_month.values())} meetings" in label
                assert await page.get_attribute("#meetings-chart", "role") == "img"

                # CoP activities by Wenger type (all 11, zeros included).
                activity_bars = await page.eval_on_selector_all(
                    "#activities-chart rect.bar",
                    "r => r.map(b => [b.dataset.key, +b.dataset.count])",
                )
                assert len(activity_bars) == 11
                assert {k.lower(): n for k, n in activity_bars if n} == dict(per_type)

                # Feedback: three months of surveys with enough responses.
                points = await page.locator("#feedback-chart circle.dot-0").count()
                assert points == 3

                # The charts are drawn: a real box, and more than one colour in it.
                await page.locator("#meetings-chart").scroll_into_view_if_needed()
                box = await page.locator("#meetings-chart").bounding_box()
                assert box
                assert box["width"] > 100, box
                assert box["height"] > 50, box
                shot = tmp_path / "dashboard-en.png"
                await page.screenshot(path=str(shot), full_page=True)
                record_property("screenshot", str(shot))
                area = await page.screenshot(clip=box)
                seen = colours(area)
                assert len(seen) > 3, seen.most_common(5)
                assert BAR_RGB in seen, seen.most_common(5)
                await page.locator("#activities-chart").scroll_into_view_if_needed()
                activity_box = await page.locator("#activities-chart").bounding_box()
                assert activity_box
                assert activity_box["height"] > 50, activity_box
                assert BAR_RGB in colours(await page.screenshot(clip=activity_box))

                # Finnish, by the keyboard-reachable switcher.
                await page.get_by_role("link", name="Suomi").click()
                await page.wait_for_url("**/dashboard?lang=fi")
                await page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
                assert await page.get_attribute("html", "lang") == "fi"
                assert await page.inner_text("#meetings-h") == "Tapaamiset kuukausittain"
                assert "Ongelmanratkaisu" in (await page.text_content("#activities-chart") or "")
                assert "tapaamista" in (
                    await page.get_attribute("#meetings-chart", "aria-label") or ""
                )
                link = page.get_by_role("link", name="Suomi")
                assert await link.get_attribute("aria-current") == "page"
                await page.screenshot(path=str(tmp_path / "dashboard-fi.png"), full_page=True)
            finally:
                await browser.close()
    finally:
        gateway.stop()
    record_property("seconds", round(time.monotonic() - started, 1))
    assert not errors, errors


async def test_dashboard_files_are_served(tmp_path) -> None:
    """The page and its files, with a strict CSP; ``/`` still leads to GraphQL (no lifespan:
    serving files needs no NATS; the page reads the read model for its no-script tables)."""
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await fill_read_model(database_url, [])
    settings = GatewaySettings(database_url=database_url)
    transport = httpx.ASGITransport(app=gateway_app.create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        assert "dashboard/static/dashboard.js" in page.text
        for name, kind in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
            resp = await client.get(f"/dashboard/static/{name}")
            assert resp.status_code == 200, name
            assert kind in resp.headers["content-type"], resp.headers
        assert (await client.get("/dashboard/static/nope.js")).status_code == 404
        slash = await client.get("/dashboard/", follow_redirects=False)
        assert slash.headers["location"].endswith("/dashboard")
        root = await client.get("/", follow_redirects=False)
        assert root.headers["location"] == "/graphql"


async def _token(database_url: str, role: str, region: str | None = None) -> str:
    engine = create_engine(database_url)
    try:
        return (await create_token(session_factory(engine), role, region, "dashboard test")).token
    finally:
        await engine.dispose()


async def _panel_states(page: Any) -> dict[str, str]:
    await page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
    states = await page.eval_on_selector_all(
        "section.panel", "s => s.map(x => [x.id, x.dataset.state])"
    )
    return dict(states)


@pytest.mark.nats
async def test_dashboard_with_tokens_required(nats_hub, playwright, tmp_path) -> None:
    """Production: no token, no data (401 named on the page); a researcher's token from the
    fragment or the form draws everything; a public token draws the national charts but not
    the per-region table, which it may not see."""
    envelopes, _, _ = world()
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await fill_read_model(database_url, envelopes)
    researcher = await _token(database_url, "researcher")
    public = await _token(database_url, "public")

    gateway = service_process(tmp_path, "gateway", database_url, nats_hub.client_url)
    gateway.env["MGN_GATEWAY_REQUIRE_TOKEN"] = "true"
    gateway.spawn()
    try:
        gateway.wait_healthy(timeout=60)
        base = gateway.health_url.removesuffix("/healthz")
        async with playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page()
                await page.goto(f"{base}/dashboard")
                states = await _panel_states(page)
                assert set(states.values()) == {"error"}, states
                assert "requires a token" in await page.inner_text("#meetings .status")

                # another address than the first: a real load, not a fragment change
                await page.goto(f"{base}/dashboard?lang=en#token={researcher}")
                states = await _panel_states(page)
                assert set(states.values()) == {"ready", "empty"}, await page.inner_text("main")
                assert "token=" not in page.url  # the fragment is taken off the address

                await page.fill("#token", public)
                await page.get_by_role("button", name="Use token").click()
                await page.wait_for_selector("#regions[data-state=error]", timeout=30_000)
                states = await _panel_states(page)
                # national figures: drawn; per-region and per-group rows: refused, by name
                assert {k: states[k] for k in ("meetings", "activities", "feedback")} == (
                    dict.fromkeys(("meetings", "activities", "feedback"), "ready")
                ), states
                refused = ("regions", "hosts", "health", "groupMonths", "agreement")
                assert {k: states[k] for k in refused} == dict.fromkeys(refused, "error"), states
                assert "national aggregates only" in await page.inner_text("#regions .status")
                assert await page.get_attribute("#viewer", "data-role") == "public"
            finally:
                await browser.close()
    finally:
        gateway.stop()
