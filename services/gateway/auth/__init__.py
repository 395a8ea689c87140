"""Who may see what at the national gateway: tokens (:mod:`.tokens`), roles and the
:class:`~services.gateway.auth.guard.Guard` (:mod:`.guard`), the HTTP/WebSocket check
(:mod:`.http`). GraphQL's side of it is :mod:`services.gateway.graphql.access`."""

from services.gateway.auth.guard import ANONYMOUS, AccessDenied, Guard, Level, Role
from services.gateway.auth.tokens import (
    IssuedToken,
    TokenError,
    TokenInfo,
    create_token,
    list_tokens,
    resolve_token,
    revoke_token,
)

__all__ = [
    "ANONYMOUS",
    "AccessDenied",
    "Guard",
    "IssuedToken",
    "Level",
    "Role",
    "TokenError",
    "TokenInfo",
    "create_token",
    "list_tokens",
    "resolve_token",
    "revoke_token",
]
