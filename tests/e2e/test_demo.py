"""``mgn demo`` end to end: a real federation (hub, two regions, gateway) as child processes,
sample data loaded through the regional APIs (survey answers through the form, with the
links from the mailed ``.eml`` files), the nation has it, and nothing is left running."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.natsserver import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.nats]

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a recycled pid of another user: not ours
        return False
    try:  # a zombie is not running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def test_demo_loads_two_regions_reaches_the_nation_and_stops_everything(
    tmp_path: Path,
) -> None:
    port = free_port()
    workdir = tmp_path / "demo"
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploy.cli",
            "demo",
            "--exit-after-load",
            "--regions",
            "oulu,kainuu",
            "--groups",
            "1",
            "--years",
            "2018-2019",
            "--port",
            str(port),
            "--workdir",
            str(workdir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert f"http://127.0.0.1:{port}/graphql" in result.stdout
    assert "Try this query:" in result.stdout
    assert "error" not in result.stdout.lower(), result.stdout
    assert "warning: the nation is still behind" not in result.stdout

    # The national summary: both regions, with groups, members and meetings.
    rows = {
        m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
        for m in re.finditer(
            r"^\s+(oulu|kainuu)\s+(\d+)\s+(\d+)\s+(\d+)\s", result.stdout, re.MULTILINE
        )
    }
    assert set(rows) == {"oulu", "kainuu"}, result.stdout
    for region, (groups, members, meetings) in rows.items():
        assert groups == 1, region
        assert members > 0, region
        assert meetings > 0, region

    # Survey answers went through the form with the links of the mails the demo wrote.
    for region in ("oulu", "kainuu"):
        assert list((workdir / region / "mail").glob("*.eml")), region

    # Every process the demo started has stopped.
    pids = [int(p) for p in (workdir / "pids").read_text().split()]
    assert len(pids) >= 1 + 1 + 2 * 4  # hub NATS, gateway, per region a leaf + 3 services
    deadline = time.monotonic() + 10
    while (alive := [p for p in pids if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive, f"still running: {alive}"
    assert elapsed < 240, f"the demo took {elapsed:.0f}s"
