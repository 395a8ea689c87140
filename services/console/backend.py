"""The console's client of the region's services: their GraphQL APIs, called with the
console's node credential and the signed-in user's language.

    data = await ctx.backend.groups("query($id: UUID!) { group(id: $id) { name } }", id=gid)

A refusal comes back as :class:`BackendError` whose ``problems`` are the shared vocabulary's
four keys (``code``, ``field``, ``params``, ``message``: already in the user's language), so
a page shows each at its field (``problems_by_field``). A service that cannot be reached,
or answers something unusable, is a :class:`BackendUnavailable` (the page says so; no data
is lost: nothing was saved).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx

from shared.i18n import current_language
from shared.keepalive import KeptAlive

SERVICES: Final = ("groups", "meetings", "feedback")
# a document that only reads: its first operation is a query (``query ...`` or ``{ ...``)
_READ_ONLY: Final = re.compile(r"\s*(?:#[^\n]*\n\s*)*(?:query\b|\{)")


@dataclass(frozen=True)
class Problem:
    """One refusal or warning: ``field`` in the form's (snake_case) terms, may be empty."""

    code: str
    message: str
    field: str = ""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class BackendError(Exception):
    """The service refused the request; ``problems`` say why (at least one)."""

    def __init__(self, service: str, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.service = service
        self.problems = problems

    def by_field(self) -> dict[str, str]:
        return problems_by_field(self.problems)


class BackendUnavailable(Exception):
    """The service could not be asked (down, timeout, not JSON, HTTP error)."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(name: str) -> str:
    """``businessId`` -> ``business_id`` (the API's fields are camelCase)."""
    return _CAMEL.sub("_", name).lower()


def problems_by_field(problems: list[Problem]) -> dict[str, str]:
    """``{field: message}``; problems without a field under ``""`` (shown above the form)."""
    found: dict[str, str] = {}
    for problem in problems:
        key = problem.field
        found[key] = f"{found[key]} {problem.message}" if key in found else problem.message
    return found


def read_only(document: str) -> bool:
    """Whether a GraphQL document is a query (so it may be asked again); a mutation, a
    subscription or anything not recognised is not."""
    return _READ_ONLY.match(document) is not None


def problem_from(error: Mapping[str, Any]) -> Problem:
    ext = error.get("extensions") or {}
    params = ext.get("params") or {}
    return Problem(
        code=str(ext.get("code") or "ERROR"),
        message=str(error.get("message") or ""),
        field=snake(str(ext.get("field") or "")),
        params=params if isinstance(params, Mapping) else {},
    )


class Backend:
    """One per application: one kept-alive HTTP client per service (``shared.keepalive``:
    idle connections dropped before the service's keep-alive timeout; a query, never a
    mutation, asked again on a connection the service closed), cheap calls per request."""

    def __init__(
        self,
        urls: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.urls = dict(urls)
        self._headers = dict(headers)
        self._clients = {s: KeptAlive(timeout=timeout, transport=transport) for s in self.urls}
        self._other = KeptAlive(timeout=timeout, transport=transport)

    def client(self, service: str) -> KeptAlive:
        """The kept-alive client to ``service`` (one of ``urls``)."""
        if service not in self._clients:
            raise BackendUnavailable(service, "no such service")
        return self._clients[service]

    @property
    def http(self) -> httpx.AsyncClient:
        """A client for what is not a service's API (the leaf server's monitoring)."""
        return self._other.http()

    async def aclose(self) -> None:
        for client in (*self._clients.values(), self._other):
            await client.aclose()

    def auth_headers(self) -> dict[str, str]:
        return dict(self._headers)

    async def graphql(
        self, service: str, query: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``data`` of the answer; raises BackendError / BackendUnavailable."""
        client = self.client(service)
        url = f"{self.urls[service]}/graphql"
        headers = {**self._headers, "Accept-Language": current_language()}
        payload = {"query": query, "variables": dict(variables or {})}
        try:
            response = await client.send(
                "POST", url, retry=read_only(query), json=payload, headers=headers
            )
        except httpx.TimeoutException:
            raise BackendUnavailable(service, "no answer in time") from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(service, f"not reachable ({exc.__class__.__name__})") from None
        try:
            body = response.json()
        except ValueError:
            raise BackendUnavailable(service, f"HTTP {response.status_code}, not JSON") from None
        errors = body.get("errors") if isinstance(body, dict) else None
        if response.status_code == 401:
            raise BackendUnavailable(service, f"refused the console's credential: {errors}")
        if errors:
            raise BackendError(service, [problem_from(e) for e in errors])
        if response.status_code != 200 or not isinstance(body.get("data"), dict):
            raise BackendUnavailable(service, f"HTTP {response.status_code}")
        data: dict[str, Any] = body["data"]
        return data

    async def groups(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.graphql("groups", query, variables)

    async def meetings(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.graphql("meetings", query, variables)

    async def feedback(self, query: str, **variables: Any) -> dict[str, Any]:
        return await self.graphql("feedback", query, variables)
