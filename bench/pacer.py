"""An open-loop pacer: starts operation i at ``start + i / rate`` whether or not earlier ones
have finished, so a slow system meets the offered load (and its queueing shows in latency)
instead of quietly slowing the load down (coordinated omission)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class PacedRun:
    offered_rate: float | None  # None: closed loop, as fast as ``concurrency`` allows
    scheduled: list[float] = field(default_factory=list)  # perf_counter at which i was due
    started: float = 0.0
    issued_until: float = 0.0  # when the last operation was started
    finished_until: float = 0.0  # when the last operation finished
    late_starts: int = 0  # operations started more than 10 ms after they were due

    @property
    def issued_rate(self) -> float:
        return len(self.scheduled) / max(self.issued_until - self.started, 1e-9)

    @property
    def completed_rate(self) -> float:
        return len(self.scheduled) / max(self.finished_until - self.started, 1e-9)


async def run_paced(
    n: int,
    operation: Callable[[int, float], Awaitable[None]],
    *,
    rate: float | None,
    concurrency: int = 16,
) -> PacedRun:
    """Run ``operation(i, due)`` for i in 0..n-1. With ``rate``: open loop, at most
    ``max(concurrency, 4 * rate)`` in flight (beyond that the pacer waits and counts late
    starts). Without: closed loop with ``concurrency`` in flight."""
    run = PacedRun(offered_rate=rate)
    limit = asyncio.Semaphore(max(concurrency, int(4 * rate)) if rate else concurrency)
    loop = asyncio.get_running_loop()
    run.started = time.perf_counter()

    async def one(i: int, due: float) -> None:
        try:
            await operation(i, due)
        finally:
            limit.release()

    tasks = []
    for i in range(n):
        due = run.started + i / rate if rate else time.perf_counter()
        if rate:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await limit.acquire()
        if not rate:
            due = time.perf_counter()
        elif time.perf_counter() - due > 0.010:
            run.late_starts += 1
        run.scheduled.append(due)
        tasks.append(loop.create_task(one(i, due)))
    run.issued_until = time.perf_counter()
    await asyncio.gather(*tasks)
    run.finished_until = time.perf_counter()
    return run
