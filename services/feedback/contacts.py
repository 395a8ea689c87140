"""Contact details (name, email, language) stay in the groups service: fetched at send time.

The groups API is asked ``member(id) { contacts { id name email language erased } }``
(its ``Person`` type: ``id`` is the person id, ``language`` the enum ``FI``/``SV``/``EN``).

:class:`ContactDirectory` is what the mail sender needs; :class:`GroupsContactDirectory`
asks the region's groups GraphQL API, :class:`StaticContactDirectory` serves tests and demos.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import httpx

CONTACTS_QUERY = """
query($id: UUID!) { member(id: $id) { contacts { id name email language erased } } }
"""


class ContactLookupError(RuntimeError):
    """The directory could not be asked (network, HTTP or GraphQL error): retry later."""


@dataclass(frozen=True, slots=True)
class Contact:
    person_id: UUID
    name: str
    email: str
    language: str


class ContactDirectory(Protocol):
    async def contacts(self, member_id: UUID) -> list[Contact]:
        """The member's contact persons; empty when the member is unknown."""
        ...


class GroupsContactDirectory:
    def __init__(
        self,
        graphql_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = graphql_url
        self._timeout = timeout
        self._transport = transport  # tests: an ASGI transport to a fake groups API

    async def contacts(self, member_id: UUID) -> list[Contact]:
        if not self.url:
            raise ContactLookupError("no groups service URL configured (MGN_FEEDBACK_GROUPS_URL)")
        payload = {"query": CONTACTS_QUERY, "variables": {"id": str(member_id)}}
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(self.url, json=payload)
        except httpx.HTTPError as exc:
            raise ContactLookupError(f"groups service at {self.url}: {exc!r}") from exc
        if response.status_code != 200:
            raise ContactLookupError(f"groups service answered HTTP {response.status_code}")
        body = response.json()
        if body.get("errors"):
            raise ContactLookupError(f"groups service: {body['errors'][0].get('message')}")
        member = (body.get("data") or {}).get("member")
        if member is None:
            return []
        return [
            Contact(
                person_id=UUID(c["id"]),
                name=c.get("name") or "",
                email=c.get("email") or "",
                language=(c.get("language") or "").lower(),  # the enum FI/SV/EN
            )
            for c in member.get("contacts") or []
            if not c.get("erased")
        ]


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
