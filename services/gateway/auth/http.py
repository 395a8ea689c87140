"""The token check in front of ``/graphql`` and ``/exports`` (a pure ASGI middleware).

``Authorization: Bearer <token>`` is resolved on every request (a revoked token stops
working at once) and the caller's :class:`~services.gateway.auth.guard.Guard` is put in
``scope["state"]["guard"]`` (Starlette's ``request.state.guard``). An unknown, revoked or
malformed token gets 401 with a message saying which, a WebSocket a close before accept
(code 4401). Without a header: with ``require`` off (the demo) the caller is
:data:`~services.gateway.auth.guard.ANONYMOUS` (a national researcher); with it on, 401.
A WebSocket without a header may still bring its token in graphql-transport-ws's
``connection_init`` payload (browsers cannot set headers on a WebSocket): the guard is
then ``None`` here and :mod:`services.gateway.graphql.access` decides.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.auth.guard import ANONYMOUS, Guard
from services.gateway.auth.tokens import TokenError, resolve_token

PROTECTED = ("/graphql", "/exports")
MISSING = (
    "this gateway requires a token: send 'Authorization: Bearer <token>' "
    "(an operator issues one with `mgn token create --role ...`)"
)


def bearer(value: str) -> str:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenError("malformed Authorization header: expected 'Bearer <token>'")
    return token.strip()


async def guard_for(
    sessions: async_sessionmaker[AsyncSession], token: str | None, *, require: bool
) -> Guard:
    """The guard of ``token`` (``None``: none was sent); :class:`TokenError` if refused."""
    if token is None:
        if require:
            raise TokenError(MISSING)
        return ANONYMOUS
    return await resolve_token(sessions, token)


class TokenAuth:
    def __init__(
        self,
        app: ASGIApp,
        sessions: async_sessionmaker[AsyncSession],
        require: bool,
        protected: Sequence[str] = PROTECTED,
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.require = require
        self.protected = tuple(protected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith(self.protected):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        guard: Guard | None
        try:
            if header is None and scope["type"] == "websocket":
                guard = None  # connection_init may carry it
            else:
                guard = await guard_for(
                    self.sessions, None if header is None else bearer(header), require=self.require
                )
        except TokenError as exc:
            await _refuse(scope, send, str(exc))
            return
        scope.setdefault("state", {})["guard"] = guard
        scope["state"]["require_token"] = self.require
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def _refuse(scope: Scope, send: Send, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401, "reason": message[:120]})
        return
    body = json.dumps(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="mgn"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
