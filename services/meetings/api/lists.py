"""A GraphQL request's per-meeting lists (attendees, RSVPs, attendance counts), each read
for all the request's meetings in one query, and only when the request asks for it.

``meetings`` and ``meeting`` read the meetings' rows only; a list of 50 meetings asking for
``attendanceCount`` costs one more statement (a count per meeting, not ~600 attendee
rows), and one asking for ``id theme`` none (issue 9 part 10).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.dataloader import DataLoader

from services.meetings.repository import MeetingRepository

T = TypeVar("T")
Read = Callable[[MeetingRepository, Sequence[UUID]], Awaitable[dict[UUID, T]]]


class MeetingLists:
    """Built for each request (the loaders' caches never outlive it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self.attendees: DataLoader[UUID, list[UUID]] = self._loader(MeetingRepository.attendees_of)
        self.rsvps: DataLoader[UUID, list[tuple[UUID, bool]]] = self._loader(
            MeetingRepository.rsvps_of
        )
        self.attendance_counts: DataLoader[UUID, int] = self._loader(
            MeetingRepository.attendance_counts
        )

    def _loader(self, read: Read[T]) -> DataLoader[UUID, T]:
        async def load(meeting_ids: list[UUID]) -> list[T]:
            async with self._sessions() as session:
                found = await read(MeetingRepository(session), meeting_ids)
            return [found[meeting_id] for meeting_id in meeting_ids]

        return DataLoader(load_fn=load)
