"""Screenshots of the console's main pages for the README (issue 9 part 9).

    python docs/screenshots.py                 # English, into docs/screenshots/
    python docs/screenshots.py --language fi --out /tmp/shots

Starts a node like the demo's (``bench/console_node.py``: hub, gateway, the region's
services and console as processes on SQLite, sample data loaded through the regional APIs,
an admin and a facilitator), drives Debian's Chromium (``/usr/bin/chromium``) with
Playwright at 1280x800, and writes one PNG per page: home, members, the member form with a
field error, the month view, a meeting, feedback results and the audit trail. Then stops
everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python docs/screenshots.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.console_node import ConsoleNode, start_console_node

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LOCALES = {"en": "en-GB", "fi": "fi-FI", "sv": "sv-FI"}
HELD = """query($g: UUID!) { meetings(groupId: $g, status: HELD, first: 1) { id startsAt } }"""


async def sign_in(page: Any, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/signin")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.press("#password", "Enter")
    await page.wait_for_url(f"{base}/")


async def shoot(node: ConsoleNode, out: Path, language: str) -> list[Path]:
    from playwright.async_api import ViewportSize, async_playwright

    size = ViewportSize(width=1280, height=800)

    base, group = node.url, node.group_id
    held = (await node.api("meetings", HELD, g=group))["meetings"][0]
    written: list[Path] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context(viewport=size, locale=LOCALES[language])
            page = await context.new_page()

            async def save(name: str) -> None:
                path = out / f"{name}.png"
                await page.screenshot(path=str(path))
                written.append(path)

            await sign_in(page, base, *node.facilitator)
            await save("home")
            await page.goto(f"{base}/members")
            await save("members")
            await page.goto(f"{base}/members/new?group={group}")
            await page.fill("#company_name", "Revontuli Design Oy")
            await page.fill("#business_id", "0112038-8")  # a wrong check digit
            await page.fill("#employees", "3")
            await page.click("form.stack button[type=submit]")
            await page.wait_for_selector("#business_id-error")
            await page.locator("#business_id").scroll_into_view_if_needed()
            await save("member-form-error")
            await page.goto(f"{base}/groups/{group}/meetings/month?month={held['startsAt'][:7]}")
            await save("month")
            await page.goto(f"{base}/meetings/{held['id']}")
            await save("meeting")
            await page.goto(f"{base}/feedback/meetings/{held['id']}")
            await save("feedback-results")
            await context.close()

            context = await browser.new_context(viewport=size, locale=LOCALES[language])
            page = await context.new_page()
            await sign_in(page, base, *node.admin)
            await page.goto(f"{base}/admin/audit")
            await save("audit")
        finally:
            await browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", choices=sorted(LOCALES), default="en")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "screenshots")
    parser.add_argument("--members", type=int, default=60, help="in the region (%(default)s)")
    parser.add_argument("--meetings", type=int, default=24, help="of the group (%(default)s)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mgn-screenshots-"))
    node = start_console_node(workdir, members=args.members, meetings=args.meetings)
    try:
        written = asyncio.run(shoot(node, args.out, args.language))
    finally:
        node.stop()
    for path in written:
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
