"""Numbers and their presentation: percentiles, machine load, PASS/FAIL against the targets."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

PROJECTION_TARGET = 5_000.0  # national projection, events/s, on SQLite and on PostgreSQL
P99_TARGET_MS = 1_000.0  # write-to-visible p99 ...
P99_TARGET_RATE = 200.0  # ... at this many writes/s
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

    def latency(self, kind: str, target_rate: float, runs: Sequence[dict[str, float]]) -> None:
        parts = []
        ok = True
        for r in runs:
            at_rate = r["completed/s"] >= RATE_TOLERANCE * target_rate
            ok = ok and at_rate and r["visible p99 ms"] < P99_TARGET_MS
            parts.append(
                f"p99 {r['visible p99 ms']:,.0f} ms at {r['completed/s']:,.0f} writes/s achieved"
                + ("" if at_rate else " (rate not reached)")
            )
        self.check(
            ok and target_rate >= P99_TARGET_RATE,
            f"write-to-visible p99 < {P99_TARGET_MS:,.0f} ms at {P99_TARGET_RATE:g} writes/s "
            f"on {kind} (asked {target_rate:g}/s)",
            "; ".join(parts),
        )
