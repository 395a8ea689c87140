"""Asking the region's groups service who someone is: the one HTTP client for it.

Personal data (names, email addresses, languages) stays in the groups service; other
services of the region ask its GraphQL API at the moment they need it and keep nothing:

- :meth:`GroupsDirectory.contacts`: a member's contact persons (the feedback mailer);
- :meth:`GroupsDirectory.members`: company and contact names of several members in one
  request (the meetings service names who blocks a recording);
- :meth:`GroupsDirectory.mask_names`: a text with the region's person and company names
  masked, for the copy of a memo that leaves the region (the meetings service).

Any failure to ask (no URL configured, network, timeout, HTTP or GraphQL error, an answer
of the wrong shape) raises :class:`DirectoryError` with what went wrong; callers decide
whether to retry later or fall back to ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from shared.keepalive import KeptAlive

CONTACTS_QUERY = """
query($id: UUID!) { member(id: $id) { contacts { id name email language erased } } }
"""
MEMBERS_QUERY = """
query($ids: [UUID!]!) {
  membersByIds(ids: $ids) { id companyName address contacts { id name erased } } }
"""
COMPANIES_QUERY = """
query($ids: [UUID!]!) { memberCompanies(ids: $ids) { id companyName address } }
"""  # three columns of the members: no contacts, no histories (a page's company names)
MEMBERS_AT_ONCE = 500  # the groups service's most ids a query (PAGE_MAX)
MASK_QUERY = """
query($text: String!) { maskNames(text: $text) { text masked { kind name occurrences } } }
"""


class DirectoryError(RuntimeError):
    """The groups service could not be asked, or its answer was unusable."""


@dataclass(frozen=True, slots=True)
class Contact:
    person_id: UUID
    name: str
    email: str
    language: str


@dataclass(frozen=True, slots=True)
class MemberCard:
    """Who a member is: its company name and its (not erased) contact persons' names."""

    member_id: UUID
    company_name: str
    person_names: Mapping[UUID, str]
    address: str = ""  # the premises (street, postal code and town), "" if not known


@dataclass(frozen=True, slots=True)
class MaskedName:
    """A name masked in a text: ``kind`` person or company; ``name`` None for an erased
    person's (no longer known)."""

    kind: str
    name: str | None
    occurrences: int


@dataclass(frozen=True, slots=True)
class MaskedText:
    """A text with names replaced by ``[name]`` / ``[company]``, and what was masked."""

    text: str
    masked: tuple[MaskedName, ...]


def _card(found: Mapping[str, Any]) -> MemberCard:
    """A ``membersByIds`` or ``memberCompanies`` entry as a card (erased contacts left out)."""
    names = {
        UUID(c["id"]): c.get("name") or ""
        for c in found.get("contacts") or []
        if not c.get("erased")
    }
    return MemberCard(
        UUID(found["id"]),
        found.get("companyName") or "",
        names,
        address=found.get("address") or "",
    )


class GroupsDirectory:
    """The groups GraphQL API at ``graphql_url`` (e.g. ``http://127.0.0.1:8101/graphql``).

    ``setting`` names the configuration variable holding the URL, for error messages.
    ``transport``: tests may pass an ASGI transport to an in-process groups app.
    ``headers``: the caller's node credential (``NodeCredentials.headers(service)``).
    """

    def __init__(
        self,
        graphql_url: str,
        *,
        timeout: float = 10.0,
        setting: str = "the groups service URL",
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = graphql_url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self._setting = setting
        self._http = KeptAlive(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _ask(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        if not self.url:
            raise DirectoryError(f"no groups service URL configured ({self._setting})")
        payload = {"query": query, "variables": dict(variables)}
        try:
            # every query here only reads: asked again on a connection the server closed
            response = await self._http.send(
                "POST", self.url, retry=True, json=payload, headers=self.headers
            )
        except httpx.TimeoutException as exc:
            raise DirectoryError(
                f"groups service at {self.url} did not answer within {self.timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise DirectoryError(f"groups service at {self.url}: {exc!r}") from exc
        if response.status_code != 200:
            raise DirectoryError(
                f"groups service at {self.url} answered HTTP {response.status_code}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise DirectoryError(f"groups service at {self.url} answered no JSON") from exc
        if not isinstance(body, dict):
            raise DirectoryError(f"groups service at {self.url} answered {type(body).__name__}")
        if body.get("errors"):
            raise DirectoryError(f"groups service: {body['errors'][0].get('message')}")
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    async def contacts(self, member_id: UUID) -> list[Contact]:
        """The member's contact persons (erased ones left out); empty for an unknown member."""
        data = await self._ask(CONTACTS_QUERY, {"id": str(member_id)})
        member = data.get("member")
        if member is None:
            return []
        try:
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
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DirectoryError(f"groups service: unexpected contacts answer: {exc!r}") from exc

    async def members(
        self, member_ids: Iterable[UUID], *, persons: bool = True
    ) -> dict[UUID, MemberCard]:
        """Cards of the members the groups service knows, in one request (``membersByIds``;
        one per ``MEMBERS_AT_ONCE``); unknown ids are simply absent from the result.
        ``persons=False``: company names and addresses only (``person_names`` empty;
        ``memberCompanies``, three columns of the members)."""
        ids = [str(m) for m in dict.fromkeys(member_ids)]
        query, field = (
            (MEMBERS_QUERY, "membersByIds") if persons else (COMPANIES_QUERY, "memberCompanies")
        )
        cards: dict[UUID, MemberCard] = {}
        for start in range(0, len(ids), MEMBERS_AT_ONCE):
            chunk = ids[start : start + MEMBERS_AT_ONCE]
            data = await self._ask(query, {"ids": chunk})
            try:
                for found in data[field]:
                    cards[UUID(found["id"])] = _card(found)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise DirectoryError(f"groups service: unexpected members answer: {exc!r}") from exc
        return cards

    async def mask_names(self, text: str) -> MaskedText:
        """``text`` with every name of the region's persons and member companies masked
        (the groups service's ``maskNames``): what may leave the region of a memo."""
        data = await self._ask(MASK_QUERY, {"text": text})
        try:
            found = data["maskNames"]
            return MaskedText(
                text=str(found["text"]),
                masked=tuple(
                    MaskedName(
                        kind=str(m["kind"]).lower(),
                        name=m.get("name"),
                        occurrences=int(m["occurrences"]),
                    )
                    for m in found["masked"]
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DirectoryError(f"groups service: unexpected maskNames answer: {exc!r}") from exc
