"""The local replica of the groups service's data: groups and memberships.

Built only from the groups service's events, which may arrive out of order, twice, or
with a leave before the join. The merge rules below therefore commute: the state after
any arrival order is the same, decided by the member aggregate's ``sequence``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from uuid import UUID


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The calendar date of ``moment`` in the region's time zone."""
    return moment.astimezone(tz).date()


@dataclass(frozen=True, slots=True)
class KnownGroup:
    group_id: UUID
    name: str
    founded_on: date


@dataclass(frozen=True, slots=True)
class Membership:
    """What the meetings service knows of one member enterprise.

    ``joined_sequence`` / ``left_sequence`` are the sequences of the latest MemberJoined /
    MemberLeft applied (0: none yet). A leave older than the latest join is a past
    membership: the member rejoined, so it does not count as left.
    """

    member_id: UUID
    group_id: UUID
    joined_on: date | None = None
    left_on: date | None = None
    joined_sequence: int = 0
    left_sequence: int = 0
    paused_on: date | None = None
    paused_sequence: int = 0
    rejoined_on: date | None = None
    rejoined_sequence: int = 0

    @property
    def has_joined(self) -> bool:
        """False while only a MemberLeft has arrived (its MemberJoined is still on the way)."""
        return self.joined_on is not None

    @property
    def _back_sequence(self) -> int:
        """The latest event that made the member active: a joining or a rejoining."""
        return max(self.joined_sequence, self.rejoined_sequence)

    @property
    def effective_left_on(self) -> date | None:
        return self.left_on if self.left_sequence > self._back_sequence else None

    @property
    def effective_paused_on(self) -> date | None:
        """The start of a pause still in force (no rejoining, joining or leave after it)."""
        if self.paused_sequence > max(self._back_sequence, self.left_sequence):
            return self.paused_on
        return None

    def _timeline(self) -> list[tuple[int, bool, date]]:
        """(sequence, active after it, from which day) of the latest event of each kind.

        A leave or pause takes effect the day after its date (that day still counts).
        """
        steps: list[tuple[int, bool, date]] = []
        if self.joined_on is not None and self.joined_sequence:
            steps.append((self.joined_sequence, True, self.joined_on))
        if self.rejoined_on is not None and self.rejoined_sequence:
            steps.append((self.rejoined_sequence, True, self.rejoined_on))
        if self.left_on is not None and self.left_sequence:
            steps.append((self.left_sequence, False, self.left_on + timedelta(days=1)))
        if self.paused_on is not None and self.paused_sequence:
            steps.append((self.paused_sequence, False, self.paused_on + timedelta(days=1)))
        return sorted(steps)

    def active_on(self, day: date) -> bool:
        """Whether the member was active in its group on ``day``: the latest (by sequence)
        of its joining, rejoining, pause and leave in effect that day decides. Leaving or
        pausing on the day still counts as active; joining or rejoining that day does too.
        """
        if self.joined_on is None:
            return False
        in_effect = [active for _, active, since in self._timeline() if since <= day]
        return bool(in_effect) and in_effect[-1]

    def joined(self, *, group_id: UUID, joined_on: date, sequence: int) -> Membership:
        """Apply a MemberJoined; a stale one (older sequence) changes nothing."""
        if sequence <= self.joined_sequence:
            return self
        return replace(self, group_id=group_id, joined_on=joined_on, joined_sequence=sequence)

    def left(self, *, left_on: date, sequence: int) -> Membership:
        """Apply a MemberLeft; a stale one (older sequence) changes nothing."""
        if sequence <= self.left_sequence:
            return self
        return replace(self, left_on=left_on, left_sequence=sequence)

    def paused(self, *, paused_on: date, sequence: int) -> Membership:
        """Apply a MemberPaused; a stale one (older sequence) changes nothing."""
        if sequence <= self.paused_sequence:
            return self
        return replace(self, paused_on=paused_on, paused_sequence=sequence)

    def rejoined(self, *, rejoined_on: date, sequence: int) -> Membership:
        """Apply a MemberRejoined; a stale one (older sequence) changes nothing."""
        if sequence <= self.rejoined_sequence:
            return self
        return replace(self, rejoined_on=rejoined_on, rejoined_sequence=sequence)

    def describe(self) -> str:
        """The membership's dates, for error messages."""
        parts = [f"joined {self.joined_on}"]
        if self.effective_paused_on:
            parts.append(f"paused {self.effective_paused_on}")
        if self.effective_left_on:
            parts.append(f"left {self.effective_left_on}")
        return ", ".join(parts)
