"""Domain refusals in GraphQL, mapped once per schema.

Add :class:`DomainErrors` to a schema's extensions (or build it with :func:`schema`): a
resolver simply raises a :class:`shared.errors.DomainError`, and the client gets an error
whose message is rendered in the request's language (``Accept-Language``, see
:func:`shared.runtime.asgi.graphql_app`) and whose ``extensions`` carry ``code``, ``field``
(camelCase, as the API user wrote it) and ``params``. Refusals are logged at INFO without
a traceback; everything else keeps strawberry's logging.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, cast

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult
from strawberry.utils.str_converters import to_camel_case

from shared.errors import DomainError

log = logging.getLogger(__name__)


def refusal(error: GraphQLError) -> DomainError | None:
    """The refusal behind ``error``: raised by a resolver, or by a scalar while reading a
    variable (graphql-core wraps that one in a GraphQLError of its own)."""
    original: BaseException | None = error.original_error
    while isinstance(original, GraphQLError):
        original = original.original_error
    return original if isinstance(original, DomainError) else None


def as_graphql(error: GraphQLError, refused: DomainError) -> GraphQLError:
    return GraphQLError(
        refused.render(),
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=refused,
        extensions={
            "code": refused.code,
            "field": to_camel_case(refused.field) if refused.field else None,
            "params": refused.json_params(),
        },
    )


class DomainErrors(SchemaExtension):
    """Rewrites every error raised as a :class:`DomainError` (see the module's doc)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [
                as_graphql(error, found) if (found := refusal(error)) else error
                for error in result.errors
            ]


class Schema(strawberry.Schema):
    """A strawberry schema with :class:`DomainErrors`, logging refusals briefly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["extensions"] = [*kwargs.get("extensions", ()), DomainErrors]
        super().__init__(*args, **kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = []
        for error in errors:
            found = refusal(error)
            if found is None:
                unexpected.append(error)
            else:
                log.info("refused: %s %s", found.code, found.render("en"))
        super().process_errors(unexpected, execution_context)


@strawberry.type(
    description="A rule a field breaks, or a warning about it: the code, field and params a "
    "refusal carries in its extensions, and the message in the caller's language."
)
class FieldProblem:
    code: str
    field: str | None = strawberry.field(description="The input field, as the API names it.")
    message: str
    params: JSON

    @classmethod
    def from_error(cls, error: DomainError) -> FieldProblem:
        return cls(
            code=error.code,
            field=to_camel_case(error.field) if error.field else None,
            message=error.render(),
            params=cast(JSON, error.json_params()),
        )
