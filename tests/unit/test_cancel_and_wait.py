"""A service's stop must not hang on a task whose first cancellation was lost (seen on
Python 3.11: the outbox relay back at its wake-up wait with the cancel spent)."""

from __future__ import annotations

import asyncio

from shared.runtime.tasks import cancel_and_wait


async def test_a_lost_cancellation_is_repeated() -> None:
    swallowed = 0

    async def loses_one_cancel() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    task = asyncio.create_task(loses_one_cancel(), name="loses-one-cancel")
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await cancel_and_wait(task)
    assert task.cancelled()
    assert swallowed == 1


async def test_a_task_that_ends_on_its_own_is_left_alone() -> None:
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await cancel_and_wait(task)
    assert task.done()
    assert not task.cancelled()
