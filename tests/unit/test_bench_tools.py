"""The benchmark's own pieces: the open-loop pacer, percentiles, verdicts, arguments."""

from __future__ import annotations

import asyncio
import math

import pytest

from bench.federation_scale import fit, growth
from bench.pacer import run_paced
from bench.pipeline import parse_args
from bench.report import PROJECTION_TARGET, Verdicts, percentile
from bench.write_path import main as write_path
from bench.write_path import parse_args as write_path_args


async def test_open_loop_keeps_the_offered_rate_when_operations_are_slow():
    # 40 operations at 200/s, each taking 0.1 s: a closed loop of 1 would need 4 s.
    started: list[float] = []

    async def slow(i: int, due: float) -> None:
        started.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.1)

    run = await run_paced(40, slow, rate=200, concurrency=1)
    assert len(run.scheduled) == 40
    assert run.issued_rate == pytest.approx(200, rel=0.25)
    assert run.finished_until - run.started < 0.5
    assert max(started) - min(started) == pytest.approx(39 / 200, abs=0.08)


async def test_closed_loop_is_bounded_by_concurrency():
    in_flight = 0
    most = 0

    async def op(i: int, due: float) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    run = await run_paced(30, op, rate=None, concurrency=3)
    assert most == 3
    assert run.completed_rate < 3 / 0.01 * 1.1


async def test_a_failing_operation_fails_the_run():
    async def op(i: int, due: float) -> None:
        if i == 2:
            raise RuntimeError("write refused")

    with pytest.raises(RuntimeError, match="write refused"):
        await run_paced(5, op, rate=1000)


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.5))


def _run(p99: float, done: float) -> dict[str, float]:
    return {"visible p99 ms": p99, "completed/s": done}


def test_latency_verdict_needs_the_rate_and_the_p99():
    v = Verdicts([])
    v.latency("sqlite", {200.0: [_run(400, 199), _run(600, 195)]})
    v.latency("sqlite", {200.0: [_run(400, 199), _run(1200, 199)]})
    v.latency("sqlite", {200.0: [_run(400, 60)]})
    v.latency("sqlite", {30.0: [_run(100, 30)]})
    assert [line.split()[0] for line in v.lines] == ["PASS", "FAIL", "FAIL", "FAIL"]
    assert "rate not reached" in v.lines[2]
    assert "no open-loop run" in v.lines[3]


def test_a_failed_write_fails_the_latency_target():
    v = Verdicts([])
    v.latency("sqlite", {200.0: [{**_run(400, 199), "failed writes": 1.0}]})
    assert v.lines[0].startswith("FAIL")


def _costs(**per_process: float) -> dict[str, float]:
    return {f"cpu ms/write {name.replace('_', ' ')}": ms for name, ms in per_process.items()}


def test_write_cost_verdict_counts_the_node_not_the_hub():
    v = Verdicts([])
    cheap = _costs(nats_leaf=1, groups=4, meetings=1, feedback=1, console=0.5, gateway=9)
    dear = _costs(nats_leaf=1, groups=6, meetings=1, feedback=1, console=0.5, gateway=0)
    v.write_cost("sqlite", {200.0: [cheap]})
    v.write_cost("sqlite", {200.0: [cheap, dear]})
    v.write_cost("sqlite", {30.0: [cheap]})
    assert [line.split()[0] for line in v.lines] == ["PASS", "FAIL", "FAIL"]
    assert "runs 7.5, 9.5 ms" in v.lines[1]


def _live(ms_per_event: float, fresh_p99: float, done: float = 30) -> dict[str, float]:
    return {"gateway cpu ms/event": ms_per_event, "fresh p99 ms": fresh_p99, "completed/s": done}


def test_live_cost_verdict_needs_the_cpu_the_freshness_and_the_rate():
    v = Verdicts([])
    v.live_cost("sqlite", {30.0: [_live(0.8, 900), _live(1.0, 2000)]})
    v.live_cost("sqlite", {30.0: [_live(0.8, 900), _live(1.2, 900)]})
    v.live_cost("sqlite", {30.0: [_live(0.8, 2500)]})
    v.live_cost("sqlite", {30.0: [_live(0.8, 900, done=12)]})
    v.live_cost("sqlite", {200.0: [_live(0.5, 500, done=200)]})
    assert [line.split()[0] for line in v.lines] == ["PASS", "FAIL", "FAIL", "FAIL", "FAIL"]
    assert "1.20 ms/event" in v.lines[1]
    assert "no open-loop run at 30/s" in v.lines[4]


def test_projection_verdict_needs_every_run():
    v = Verdicts([])
    v.projection("postgres", [PROJECTION_TARGET + 2000, PROJECTION_TARGET + 100])
    v.projection("sqlite", [PROJECTION_TARGET + 2000, PROJECTION_TARGET - 100])
    assert [line.split()[0] for line in v.lines] == ["PASS", "FAIL"]


def test_arguments_are_checked_with_clear_errors(capsys):
    args = parse_args(["--db", "sqlite", "--rate", "200,30", "--events", "10"])
    assert args.db == ["sqlite"]
    assert args.rate == [200.0, 30.0]
    for bad, word in (
        (["--db", "mysql"], "mysql"),
        (["--rate", "0"], "rates must be above 0"),
        (["--events", "0"], "at least 1"),
    ):
        with pytest.raises(SystemExit):
            parse_args(bad)
        assert word in capsys.readouterr().err


def test_the_fitted_line_predicts_from_the_points():
    assert fit([(10, 6.0), (50, 26.0), (100, 51.0)]) == pytest.approx((1.0, 0.5))
    with pytest.raises(ValueError, match="two different"):
        fit([(10, 1.0), (10, 2.0)])


def test_growth_tells_linear_from_quadratic():
    assert growth([(10, 1.0), (50, 5.0), (100, 10.0)]) == pytest.approx(1.0)
    assert growth([(10, 1.0), (50, 25.0), (100, 100.0)]) == pytest.approx(2.0)
    assert math.isnan(growth([(10, 0.0), (100, 0.0)]))


def test_clone_regions_copies_every_regional_row_under_suffixed_ids(tmp_path):
    import sqlite3

    from bench.clone_regions import clone

    source = tmp_path / "source.db"
    db = sqlite3.connect(source)
    db.execute("CREATE TABLE regions (id VARCHAR(32) PRIMARY KEY, display_name VARCHAR(80))")
    db.execute(
        "CREATE TABLE meetings (id VARCHAR(36) PRIMARY KEY, region VARCHAR(32), "
        "group_id VARCHAR(36), codebook_id VARCHAR(36), theme VARCHAR(200))"
    )
    db.execute("CREATE TABLE processed_events (event_id VARCHAR(36) PRIMARY KEY)")
    db.execute("INSERT INTO regions VALUES ('oulu', 'Oulu')")
    db.execute("INSERT INTO meetings VALUES ('m1', 'oulu', 'g1', 'book', 'Pricing')")
    db.execute("INSERT INTO processed_events VALUES ('e1')")
    db.commit()
    db.close()
    counts = clone(source, tmp_path / "x3.db", 3)
    assert counts == {"meetings": 3, "regions": 3}
    rows = sqlite3.connect(tmp_path / "x3.db").execute("SELECT * FROM meetings ORDER BY id")
    assert list(rows) == [
        ("m1", "oulu", "g1", "book", "Pricing"),
        ("m1_c1", "oulu_c1", "g1_c1", "book", "Pricing"),  # national ids kept
        ("m1_c2", "oulu_c2", "g1_c2", "book", "Pricing"),
    ]


async def test_the_write_path_bench_runs_and_counts_the_statements_of_a_write(capsys):
    # 30 addMember writes (two groups) and their events through both replicas, SQLite
    found = await write_path(write_path_args(["--writes", "30", "--batch", "10"]))
    out = capsys.readouterr().out
    for part in ("groups addMember", "meetings replica", "feedback replica"):
        assert part in out
    # BEGIN, the group with its facilitators, the member, its history, the outbox row
    assert found["groups"] == 5
    # a batch of 10 events: a handful of statements, not a few per event
    assert found["meetings"] < 1.5, found
    assert found["feedback"] < 1.5, found
