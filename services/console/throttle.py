"""Repeated failed sign-ins slowed down, per account and per client address.

After ``FREE_FAILURES`` failures in a row, each further failure locks the key (the account,
``user:<name>``, and the address, ``addr:<ip>``) for a delay doubling from 5 s up to 15
minutes; while either is locked, sign-in is refused without checking the password. A
success clears the account's and the address's count; a key quiet for an hour starts
again from zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.console.orm import SignInFailureRow
from services.console.sessions import _aware

FREE_FAILURES: Final = 3
FIRST_DELAY: Final = timedelta(seconds=5)
LONGEST_DELAY: Final = timedelta(minutes=15)
FORGET_AFTER: Final = timedelta(hours=1)


def keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()[:180]}", f"addr:{address[:180]}"


def delay_after(failures: int) -> timedelta:
    if failures < FREE_FAILURES:
        return timedelta(0)
    delay: timedelta = FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 20)
    return min(delay, LONGEST_DELAY)


@dataclass(frozen=True)
class Locked:
    seconds: int  # how long until the next try is allowed


class SignInThrottle:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locked(self, *key_list: str) -> Locked | None:
        now = datetime.now(UTC)
        wait = timedelta(0)
        for key in key_list:
            row = await self.session.get(SignInFailureRow, key)
            if row is not None:
                wait = max(wait, _aware(row.locked_until) - now)
        if wait <= timedelta(0):
            return None
        return Locked(max(1, int(wait.total_seconds() + 0.999)))

    async def failed(self, *key_list: str) -> None:
        now = datetime.now(UTC)
        for key in key_list:
            row = await self.session.get(SignInFailureRow, key)
            if row is None:
                row = SignInFailureRow(key=key, failures=0, last_failure_at=now, locked_until=now)
                self.session.add(row)
            elif now - _aware(row.last_failure_at) > FORGET_AFTER:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            row.locked_until = now + delay_after(row.failures)
        await self.session.flush()

    async def succeeded(self, *key_list: str) -> None:
        await self.session.execute(
            delete(SignInFailureRow).where(SignInFailureRow.key.in_(key_list))
        )
