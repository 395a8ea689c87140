"""What every GraphQL request gets: the database, units of work and the node's facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.meetings.api.lists import MeetingLists
from services.meetings.api.names import MemberNames
from services.meetings.commands import Node
from shared.directory import GroupsDirectory
from shared.runtime import UnitOfWork


@dataclass(frozen=True, slots=True)
class MeetingsContext:
    sessions: async_sessionmaker[AsyncSession]
    unit_of_work: Callable[[], UnitOfWork]
    node: Node
    lists: MeetingLists  # per request: the meetings' attendees, RSVPs and counts, batched
    directory: GroupsDirectory | None = None  # names for refusals; None: ids only
    names: MemberNames = field(default_factory=lambda: MemberNames(None))  # per request
