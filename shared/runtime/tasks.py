"""Stopping background tasks for good."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[Any], *, attempts: int = 10) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling again if a cancellation was
    lost: on Python 3.11 one can be (seen: the outbox relay, cancelled at shutdown, back
    waiting for its wake-up with the cancel spent, and the service's stop hanging on it)."""
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
    if not task.done():
        log.error("task %s did not stop after %d cancellations", task.get_name(), attempts)
        return
    if not task.cancelled() and task.exception() is not None:
        log.warning("task %s ended with %r", task.get_name(), task.exception())
