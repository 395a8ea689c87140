"""API tokens an admin issues for the agency's scripts: ``mgn_<random>``, shown once,
stored as SHA-256; revocable. A token reaches the services' APIs through the console
(``/api/<service>/graphql``); every call of one that changes something (a GraphQL mutation)
is written to the audit trail as ``token:<name>``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final
from uuid import UUID, uuid4

from graphql import GraphQLError, OperationType, parse
from graphql.language import OperationDefinitionNode
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from services.console import audit
from services.console.orm import ApiTokenRow
from services.console.sessions import digest

if TYPE_CHECKING:
    from services.console.web import Console

PREFIX: Final = "mgn_"


@dataclass(frozen=True)
class TokenInfo:
    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


async def issue(session: AsyncSession, name: str, created_by: UUID) -> tuple[str, TokenInfo]:
    """A new token: its value (show it once) and what is stored."""
    value = PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        id=uuid4(),
        name=name.strip()[:120] or "token",
        token_hash=digest(value),
        created_by=created_by,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    await session.flush()
    return value, TokenInfo(row.id, row.name, row.created_at, None, False)


async def listing(session: AsyncSession) -> list[TokenInfo]:
    rows = await session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at.desc()))
    return [
        TokenInfo(r.id, r.name, r.created_at, r.last_used_at, r.revoked_at is not None)
        for r in rows
    ]


async def revoke(session: AsyncSession, token_id: UUID) -> bool:
    result = await session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return bool(getattr(result, "rowcount", 0))


def changes_something(body: bytes) -> str | None:
    """The name of the mutation a GraphQL request body runs, or None for a query."""
    import json

    try:
        payload = json.loads(body or b"{}")
        document = parse(str(payload.get("query") or ""))
    except (ValueError, GraphQLError, AttributeError):
        return None
    for definition in document.definitions:
        if (
            isinstance(definition, OperationDefinitionNode)
            and definition.operation == OperationType.MUTATION
        ):
            fields = [getattr(s, "name", None) for s in definition.selection_set.selections]
            return ",".join(f.value for f in fields if f is not None) or "mutation"
    return None


@dataclass(frozen=True)
class Holder:
    id: UUID
    name: str


class ApiTokens:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def holder(self, authorization: str) -> Holder | None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip().startswith(PREFIX):
            return None
        async with self.console.sessions() as db:
            row = await db.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == digest(value.strip()))
            )
            if row is None or row.revoked_at is not None:
                return None
            row.last_used_at = datetime.now(UTC)
            await db.commit()
            return Holder(row.id, row.name)

    async def after_call(
        self, holder: Holder, service: str, request: Request, response: Response
    ) -> None:
        if request.method != "POST":
            return
        mutation = changes_something(await request.body())
        if mutation is None:
            return
        async with self.console.sessions() as db:
            await audit.record(
                db,
                actor=f"token:{holder.name}",
                action=f"api.{service}.mutation",
                target=mutation[:300],
                details={"status": response.status_code, "token_id": str(holder.id)},
            )
            await db.commit()
