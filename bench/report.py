"""Numbers and their presentation: percentiles, machine load, PASS/FAIL against the targets."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

PROJECTION_TARGET = 10_000.0  # national projection, events/s, on SQLite and on PostgreSQL
FLAT_TOLERANCE = 1.3  # consumer CPU per event: the largest case within 1.3x of the smallest
P99_TARGET_MS = 1_000.0  # write-to-visible p99 ...
P99_TARGET_RATE = 200.0  # ... at this many writes/s
NODE_CPU_TARGET_MS = 8.0  # CPU per regional write over the node's processes, at P99_TARGET_RATE
NODE_PROCESSES = ("nats leaf", "groups", "meetings", "feedback", "console")
LIVE_RATE = 30.0  # the gateway's live cost is measured at this many writes/s ...
LIVE_CPU_TARGET_MS = 1.0  # ... its CPU per NATIONAL event at most this ...
FRESH_TARGET_MS = 2_000.0  # ... and an event visible this soon after it reached NATIONAL
RATE_TOLERANCE = 0.95  # a paced run counts as "at the rate" if it achieved 95 % of it


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def load() -> str:
    """The machine's load averages (it is shared: read every number beside them)."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass
class Verdicts:
    lines: list[str]

    def check(self, ok: bool, what: str, detail: str) -> None:
        self.lines.append(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")

    def projection(self, kind: str, rates: Sequence[float]) -> None:
        worst = min(rates)
        self.check(
            worst >= PROJECTION_TARGET,
            f"national projection >= {PROJECTION_TARGET:,.0f} events/s on {kind}",
            "runs " + ", ".join(f"{r:,.0f}" for r in rates) + " events/s",
        )

    def flat(self, kind: str, cpu: dict[str, float]) -> None:
        """Consumer CPU per event does not grow with history: max <= 1.3 x min."""
        low, high = min(cpu.values()), max(cpu.values())
        self.check(
            high <= FLAT_TOLERANCE * low,
            f"consumer CPU per event flat within {FLAT_TOLERANCE}x on {kind}",
            ", ".join(f"{k}: {v:,.0f} µs" for k, v in cpu.items()) + f" (x{high / low:.2f})",
        )

    def latency(self, kind: str, paced: dict[float, list[dict[str, float]]]) -> None:
        """The target holds if every open-loop run at >= 200 writes/s completed 95 % of its
        offered rate with p99 under 1 s; with no such run it is not shown to hold."""
        what = (
            f"write-to-visible p99 < {P99_TARGET_MS:,.0f} ms at {P99_TARGET_RATE:g} writes/s "
            f"on {kind}"
        )
        runs = [(rate, r) for rate, rs in paced.items() if rate >= P99_TARGET_RATE for r in rs]
        if not runs:
            self.check(False, what, f"no open-loop run at >= {P99_TARGET_RATE:g}/s (use --rate)")
            return
        ok = True
        parts = []
        for rate, r in runs:
            at_rate = r["completed/s"] >= RATE_TOLERANCE * rate and not r.get("failed writes")
            ok = ok and at_rate and r["visible p99 ms"] < P99_TARGET_MS
            parts.append(
                f"p99 {r['visible p99 ms']:,.0f} ms, {r['completed/s']:,.0f} of {rate:g} writes/s"
                + ("" if at_rate else " (rate not reached)")
            )
        self.check(ok, what, "; ".join(parts))

    def write_cost(self, kind: str, paced: dict[float, list[dict[str, float]]]) -> None:
        """The regional write path: every open-loop run at >= 200 writes/s spent at most
        8 ms of the node's CPU per write."""
        what = (
            f"regional node CPU <= {NODE_CPU_TARGET_MS:g} ms per write at "
            f"{P99_TARGET_RATE:g} writes/s on {kind} ({', '.join(NODE_PROCESSES)})"
        )
        runs = [r for rate, rs in paced.items() if rate >= P99_TARGET_RATE for r in rs]
        if not runs:
            self.check(False, what, f"no open-loop run at >= {P99_TARGET_RATE:g}/s (use --rate)")
            return
        costs = [node_cpu_ms(r) for r in runs]
        self.check(
            all(c <= NODE_CPU_TARGET_MS for c in costs),
            what,
            "runs " + ", ".join(f"{c:.1f}" for c in costs) + " ms",
        )

    def live_cost(self, kind: str, paced: dict[float, list[dict[str, float]]]) -> None:
        """The gateway's live cost: every open-loop run at 30 writes/s spent at most 1 ms of
        the gateway's CPU per NATIONAL event, with the views fresh (arrival in NATIONAL to
        visible) within 2 s at the 99th percentile."""
        what = (
            f"gateway CPU <= {LIVE_CPU_TARGET_MS:g} ms per event and fresh p99 <= "
            f"{FRESH_TARGET_MS:,.0f} ms at {LIVE_RATE:g} writes/s on {kind}"
        )
        runs = paced.get(LIVE_RATE, [])
        if not runs:
            self.check(False, what, f"no open-loop run at {LIVE_RATE:g}/s (use --rate)")
            return
        ok = all(
            r.get("gateway cpu ms/event", math.inf) <= LIVE_CPU_TARGET_MS
            and r.get("fresh p99 ms", math.inf) <= FRESH_TARGET_MS
            and r["completed/s"] >= RATE_TOLERANCE * LIVE_RATE
            for r in runs
        )
        self.check(
            ok,
            what,
            "; ".join(
                f"{r.get('gateway cpu ms/event', math.inf):.2f} ms/event, fresh p99 "
                f"{r.get('fresh p99 ms', math.inf):,.0f} ms, {r['completed/s']:,.0f} writes/s"
                for r in runs
            ),
        )


def node_cpu_ms(r: dict[str, float]) -> float:
    """CPU per write over the regional node's processes (not the hub's, not the gateway's)."""
    return sum(r.get(f"cpu ms/write {name}", 0.0) for name in NODE_PROCESSES)


def format_e2e(run: int, kind: str, label: str, r: dict[str, float]) -> str:
    """Two lines for one end-to-end run: rates and latencies; relay delay and CPU."""
    cpu = ", ".join(
        f"{name[len('cpu ms/write ') :]} {value:.1f}"
        for name, value in r.items()
        if name.startswith("cpu ms/write ")
    )
    return (
        f"   [{run}] {kind:<8} {label:<11} issued {r['issued/s']:>4,.0f}/s "
        f"done {r['completed/s']:>4,.0f}/s | write p50 {r['write p50 ms']:>6,.0f} "
        f"p99 {r['write p99 ms']:>6,.0f} | visible p50 {r['visible p50 ms']:>6,.0f} "
        f"p99 {r['visible p99 ms']:>6,.0f} ms\n"
        f"       relay p50 {r['relay p50 ms']:,.0f} p99 {r['relay p99 ms']:,.0f} ms | "
        f"node cpu {node_cpu_ms(r):.1f} ms/write | "
        f"cpu {r['cpu ms/write']:.1f} ms/write ({cpu}; bench client "
        f"{r['client cpu ms/write']:.1f})"
        + (
            f" | {r['failed writes']:.0f} writes FAILED (connection)"
            if r.get("failed writes")
            else ""
        )
        + f" | {load()}\n"
        f"       gateway {r['gateway cpu ms/event']:.2f} ms CPU/event over "
        f"{r['national events']:,.0f} NATIONAL events in {r['gateway batches']:,.0f} batches "
        f"(idle {r['gateway idle ms/s']:.1f} ms/s = {100 * r['gateway idle share']:.0f} % of it) | "
        f"fresh (in NATIONAL → visible) p50 {r['fresh p50 ms']:,.0f} p99 "
        f"{r['fresh p99 ms']:,.0f} max {r['fresh max ms']:,.0f} ms ({r['fresh n']:,.0f} members; "
        f"→ recorded applied p50 {r['applied p50 ms']:,.0f} p99 {r['applied p99 ms']:,.0f} ms, "
        f"{r['applied n']:,.0f} events)"
    )
