"""Access tokens: issued once, stored sha256-hashed in the gateway's ``access_tokens`` table.

A token reads ``mgn_<id>_<secret>``: ``id`` is its public handle (listed, revoked, logged),
``secret`` 32 random bytes. Only the SHA-256 of the whole token is stored, so the database
cannot give a token back: :func:`create_token` returns it once, to be shown once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.auth.guard import Guard, Role
from services.gateway.orm import access_tokens
from shared.contracts import SubjectError, validate_region

PREFIX = "mgn_"
_SHAPE = re.compile(r"^mgn_([0-9a-f]{12})_[A-Za-z0-9_-]{20,}$")


class TokenError(Exception):
    """A token that does not authenticate (unknown, revoked, malformed) or a bad request
    to issue or revoke one; the message says which."""


@dataclass(frozen=True)
class TokenInfo:
    id: str
    role: Role
    region: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None

    def guard(self) -> Guard:
        return Guard(self.role, self.region, token_id=self.id)


@dataclass(frozen=True)
class IssuedToken:
    token: str  # the secret: shown once, never stored
    info: TokenInfo


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _info(row: object) -> TokenInfo:
    m = row._mapping  # type: ignore[attr-defined]
    return TokenInfo(
        id=m["id"],
        role=Role(m["role"]),
        region=m["region"],
        label=m["label"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


def check_role(role: str, region: str | None) -> tuple[Role, str | None]:
    try:
        parsed = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise TokenError(f"unknown role {role!r}: choose one of {choices}") from None
    if parsed is Role.AGENCY:
        if not region:
            raise TokenError("an agency token needs --region (the agency's own region)")
        try:
            validate_region(region)
        except SubjectError as exc:
            raise TokenError(f"--region: {exc}") from None
        return parsed, region
    if region:
        raise TokenError(f"a {parsed.value} token takes no --region (only agency tokens do)")
    return parsed, None


async def create_token(
    sessions: async_sessionmaker[AsyncSession],
    role: str,
    region: str | None = None,
    label: str = "",
    *,
    now: datetime | None = None,
) -> IssuedToken:
    parsed, region = check_role(role, region)
    if len(label) > 200:
        raise TokenError(f"--label is {len(label)} characters long: at most 200")
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    created = now or datetime.now(UTC)
    async with sessions() as session, session.begin():
        await session.execute(
            access_tokens.insert().values(
                id=token_id,
                token_hash=hash_token(token),
                role=parsed.value,
                region=region,
                label=label,
                created_at=created,
            )
        )
    info = TokenInfo(token_id, parsed, region, label, created, None)
    return IssuedToken(token=token, info=info)


async def list_tokens(sessions: async_sessionmaker[AsyncSession]) -> list[TokenInfo]:
    async with sessions() as session:
        rows = await session.execute(
            select(access_tokens).order_by(access_tokens.c.created_at, access_tokens.c.id)
        )
        return [_info(row) for row in rows]


async def revoke_token(
    sessions: async_sessionmaker[AsyncSession], token_id: str, *, now: datetime | None = None
) -> TokenInfo:
    """Revoke by public id (or by the token itself); revoking twice keeps the first time."""
    match = _SHAPE.match(token_id)
    if match:
        token_id = match.group(1)
    async with sessions() as session, session.begin():
        row = (
            await session.execute(select(access_tokens).where(access_tokens.c.id == token_id))
        ).first()
        if row is None:
            raise TokenError(f"no token with id {token_id!r} (see `mgn token list`)")
        if row.revoked_at is None:
            await session.execute(
                update(access_tokens)
                .where(access_tokens.c.id == token_id)
                .values(revoked_at=now or datetime.now(UTC))
            )
            row = (
                await session.execute(select(access_tokens).where(access_tokens.c.id == token_id))
            ).one()
    return _info(row)


async def resolve_token(sessions: async_sessionmaker[AsyncSession], token: str) -> Guard:
    """The :class:`Guard` of a presented token, or :class:`TokenError` saying why not."""
    if not _SHAPE.match(token):
        raise TokenError(
            "malformed token: expected mgn_<id>_<secret> as printed by `mgn token create`"
        )
    async with sessions() as session:
        row = (
            await session.execute(
                select(access_tokens).where(access_tokens.c.token_hash == hash_token(token))
            )
        ).first()
    if row is None:
        raise TokenError("unknown token: it was never issued here (or was mistyped)")
    info = _info(row)
    if info.revoked_at is not None:
        raise TokenError(f"token {info.id} was revoked at {info.revoked_at.isoformat()}")
    return info.guard()
