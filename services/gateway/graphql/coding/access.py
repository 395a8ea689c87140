"""Who may use the coding workspace: researchers only; who they are in it: a pseudonym."""

from __future__ import annotations

from services.gateway.auth.guard import Guard, Role
from services.gateway.graphql.access import forbidden
from services.gateway.graphql.context import Info

DEMO_CODER = "demo"  # the coder of a gateway run without tokens (MGN_GATEWAY_REQUIRE_TOKEN off)


def require_researcher(info: Info, what: str) -> Guard:
    guard = info.context.guard
    if guard.role is not Role.RESEARCHER:
        raise forbidden(
            f"forbidden: {what} is the researchers' coding workspace; a token of "
            f"{guard.describe()} cannot use it."
        )
    return guard


def coder_of(guard: Guard) -> str:
    """The researcher's pseudonym in codings: the public id of the token it used."""
    return guard.token_id or DEMO_CODER
