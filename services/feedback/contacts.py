"""Contact details (name, email, language) stay in the groups service: fetched at send time.

:class:`ContactDirectory` is what the mail sender needs; :class:`GroupsContactDirectory`
asks the region's groups GraphQL API through :mod:`shared.directory`;
:class:`StaticContactDirectory` serves tests and demos.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol
from uuid import UUID

import httpx

from shared.directory import Contact, DirectoryError, GroupsDirectory

__all__ = [
    "Contact",
    "ContactDirectory",
    "ContactLookupError",
    "GroupsContactDirectory",
    "StaticContactDirectory",
]

ContactLookupError = DirectoryError  # the directory could not be asked: retry later


class ContactDirectory(Protocol):
    async def contacts(self, member_id: UUID) -> list[Contact]:
        """The member's contact persons; empty when the member is unknown."""
        ...


class GroupsContactDirectory(GroupsDirectory):
    """The region's groups GraphQL API (:mod:`shared.directory`), for the mailer."""

    def __init__(
        self,
        graphql_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            graphql_url,
            timeout=timeout,
            setting="MGN_FEEDBACK_GROUPS_URL",
            transport=transport,
            headers=headers,
        )


class StaticContactDirectory:
    """An in-memory directory (tests, demos): ``add(member_id, contact)``."""

    def __init__(self, entries: Iterable[tuple[UUID, Contact]] = ()) -> None:
        self._by_member: dict[UUID, list[Contact]] = {}
        self.lookups = 0
        self.fail_with: str = ""
        for member_id, contact in entries:
            self.add(member_id, contact)

    def add(self, member_id: UUID, contact: Contact) -> None:
        self._by_member.setdefault(member_id, []).append(contact)

    async def contacts(self, member_id: UUID) -> list[Contact]:
        self.lookups += 1
        if self.fail_with:
            raise ContactLookupError(self.fail_with)
        return list(self._by_member.get(member_id, []))
