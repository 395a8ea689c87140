"""The worked example (docs/worked-example/) against the demo's data (issue 11, part 8): the
sample data of ``mgn demo`` (three regions' five years, deploy/sample_data.py) projected into
a gateway's read model, the gateway as a real ``mgn service gateway`` process, the package
written by ``mgn export --all``; the researcher's script, run as a researcher runs it, must
find Table 1 and the longitudinal figures the same through the API and from the package, and
must notice when the package says otherwise."""

from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from deploy.cli import main
from deploy.sample_data import plan_region
from services.gateway.orm import activities, meetings
from services.gateway.research.coding import CodingInput, MarkInput
from services.gateway.research.store import (
    ensure_first_codebook,
    reconcile_coding,
    record_coding,
)
from services.gateway.research.tables import codebooks
from shared.storage.engine import create_engine, session_factory
from tests.e2e.support import service_process
from tests.fixtures.demo_national import DEMO_REGIONS, load_demo

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

SCRIPT = Path(__file__).parents[2] / "docs" / "worked-example" / "reproduce.py"
FIGURES = (
    "Table 1",
    "Growth intentions by interview year",
    "Growth intentions by join cohort",
    "Retention by join cohort",
    "Firm size by year",
)


async def reconcile_three(database_url: str) -> None:
    """Two coders and a consensus for three meetings: one with records, found otherwise
    (two marks of one type, one of another); one with records, nothing found; one without
    records, one type found. Each changes Table 1 unless the consensus is what counts."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await ensure_first_codebook(session)
            book = await session.scalar(select(codebooks.c.id).where(codebooks.c.key == "wenger"))
            recorded = select(activities.c.meeting_id).distinct().order_by(activities.c.meeting_id)
            first, second = (await session.scalars(recorded.limit(2))).all()
            bare = await session.scalar(
                select(meetings.c.id)
                .where(meetings.c.id.not_in(recorded))
                .order_by(meetings.c.id)
                .limit(1)
            )
            assert book
            assert bare
            found = {
                first: (MarkInput("mapping_knowledge_and_identifying_gaps"),) * 2
                + (MarkInput("visits"),),
                second: (),
                bare: (MarkInput("growing_confidence"),),
            }
            for meeting, marks in found.items():
                coding = CodingInput(book, meeting, nothing_found=not marks, marks=marks)
                for coder in ("coder-a", "coder-b"):
                    await record_coding(session, coding, coder)
                await reconcile_coding(session, coding, "coder-a")
    finally:
        await engine.dispose()


def run(base: str, package: Path, today: str) -> subprocess.CompletedProcess[str]:
    args = ["--api", base, "--package", str(package), "--today", today]
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300
    )


async def test_the_worked_example_reproduces_the_figures_both_ways(
    nats_hub, tmp_path: Path
) -> None:
    today = datetime.now(ZoneInfo("Europe/Helsinki")).date()
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    await load_demo(database_url, today)
    await reconcile_three(database_url)
    package = tmp_path / "package"
    assert (
        await asyncio.to_thread(
            main, ["export", "--all", "--out", str(package), "--db", database_url]
        )
        == 0
    )

    gateway = service_process(tmp_path, "gateway", database_url, nats_hub.client_url)
    gateway.spawn()
    try:
        gateway.wait_healthy(timeout=60)
        base = gateway.health_url.removesuffix("/healthz")
        done = await asyncio.to_thread(run, base, package, today.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        for title in FIGURES:
            assert f"{title}: same through the API and from the package" in out, out
        # Table 1 names the codebook's types; the interviews are the demo's
        assert "| problem_solving | Problem-solving |" in out, out
        interviews = sum(
            len(m.interviews)
            for r in DEMO_REGIONS
            for g in plan_region(r, today=today).groups
            for m in g.members
        )
        by_year = out.split("## Growth intentions by interview year")[1].split("##")[0]
        rows = [line.split("|")[2] for line in by_year.splitlines() if line[:3] == "| 2"]
        assert sum(int(n) for n in rows) == interviews > 0
        # the persons (the API's only: the package has no person keys) are the contacts
        persons = [int(line.split("|")[-2]) for line in by_year.splitlines() if line[:3] == "| 2"]
        assert 0 < sum(persons) <= interviews
        (tmp_path / "output.md").write_text(out)

        # a package that says otherwise: one member fewer changes the longitudinal figures
        members = package / "members.csv"
        with members.open(newline="") as f:
            lines = list(csv.reader(f))
        with members.open("w", newline="") as f:
            csv.writer(f).writerows(lines[:-1])
        done = await asyncio.to_thread(run, base, package, today.isoformat())
        assert done.returncode == 1, done.stdout
        assert "Firm size by year: DIFFERENT" in done.stdout
        assert "Table 1: same" in done.stdout  # activities.csv is untouched
    finally:
        gateway.stop()
