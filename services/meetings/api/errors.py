"""Domain errors mapped, in this one place, to GraphQL errors a person can act on."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from services.meetings.domain import DomainError


def to_graphql_error(error: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": error.code}
    if error.field:
        extensions["field"] = error.field
    extensions.update(error.details)
    return GraphQLError(error.message, extensions=extensions, original_error=error)


class DomainErrors(FieldExtension):
    """Turn a :class:`DomainError` raised by a resolver into a GraphQL error with a code."""

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except DomainError as error:
            raise to_graphql_error(error) from error
