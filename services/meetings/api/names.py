"""Company names for one GraphQL request, asked from the groups service in one batch.

Names are personal or business data of the region's groups service: the meetings service
asks for them when a page needs them and keeps none (its replica holds ids only, as the
events that build it). When the groups service is not configured or does not answer, a
name is null and the id remains; nothing fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from uuid import UUID

from strawberry.dataloader import DataLoader

from shared.directory import DirectoryError, GroupsDirectory, MemberCard

log = logging.getLogger(__name__)


async def member_cards(
    directory: GroupsDirectory | None, member_ids: Iterable[UUID]
) -> dict[UUID, MemberCard]:
    """Cards of the members in one request; empty when the groups service is not
    configured or does not answer (callers then show ids)."""
    if directory is None:
        return {}
    try:
        return await directory.members(member_ids)
    except DirectoryError as exc:
        log.warning("names unavailable: %s", exc)
        return {}


class MemberNames:
    """The request's company names (and addresses) of members, loaded once per request in
    one call; no contact persons (``card().person_names`` is empty)."""

    def __init__(self, directory: GroupsDirectory | None) -> None:
        self._directory = directory
        self._cards: DataLoader[UUID, MemberCard | None] = DataLoader(load_fn=self._load)

    async def _load(self, member_ids: list[UUID]) -> Sequence[MemberCard | None]:
        if self._directory is None:
            return [None] * len(member_ids)
        try:
            cards = await self._directory.members(member_ids, persons=False)
        except DirectoryError as exc:
            log.warning("names unavailable: %s", exc)
            return [None] * len(member_ids)
        return [cards.get(m) for m in member_ids]

    async def card(self, member_id: UUID) -> MemberCard | None:
        return await self._cards.load(member_id)

    async def company(self, member_id: UUID) -> str | None:
        card = await self.card(member_id)
        return card.company_name or None if card else None
