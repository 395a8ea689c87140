"""The one mapping of domain refusals to GraphQL errors.

A refusal becomes an error whose message is the domain's (a person can act on it) and whose
``extensions`` carry ``code`` and ``field`` (the camelCase input field, or null).
Refusals are logged briefly; strawberry logs everything else with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext
from strawberry.utils.str_converters import to_camel_case

from services.groups.domain import DomainError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Refusal(GraphQLError):
    """A ``DomainError`` dressed for GraphQL."""

    def __init__(self, error: DomainError) -> None:
        field = to_camel_case(error.field) if error.field else None
        super().__init__(error.message, extensions={"code": error.code, "field": field})


async def refusing(call: Awaitable[T]) -> T:
    """Await ``call``; a ``DomainError`` becomes a :class:`Refusal`."""
    try:
        return await call
    except DomainError as exc:
        raise Refusal(exc) from exc


class Schema(strawberry.Schema):
    """Strawberry's schema, logging refusals at INFO without a traceback."""

    def process_errors(
        self,
        errors: list[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        unexpected = []
        for error in errors:
            if isinstance(error.original_error, Refusal):
                log.info("refused: %s %s", (error.extensions or {}).get("code"), error.message)
            else:
                unexpected.append(error)
        super().process_errors(unexpected, execution_context)
