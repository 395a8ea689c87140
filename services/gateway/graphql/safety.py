"""Safe by default: the limits and error masking every gateway schema is built with.

* depth (``QueryDepthLimiter``), aliases (``MaxAliasesLimiter``) and tokens
  (``MaxTokensLimiter``: the parser stops at the limit, before any work);
* query cost (:mod:`services.gateway.graphql.cost`, priced with the request's variables);
* introspection off (``DisableIntrospection``) where the settings say so;
* masked internal errors (:class:`MaskInternalErrors`): an unexpected exception in a
  resolver reaches the client as "Internal server error" with a reference id, and the
  log has the same id with the traceback. Errors meant for the client pass through: every
  error about the request itself (syntax, validation, limits, variables) and every
  ``GraphQLError`` a resolver raises on purpose (ours carry ``extensions.code``, see
  :mod:`services.gateway.graphql.errors`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from services.gateway.graphql.cost import cost_rule
from services.gateway.settings import GatewaySettings
from shared.errors import DomainError

log = logging.getLogger(__name__)
INTERNAL_CODE = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error"

ExtensionFactory = Callable[[], SchemaExtension]


def is_internal(error: GraphQLError) -> bool:
    """An unexpected failure while executing, not something the client asked wrongly.

    Execution errors have a ``path``; one raised as a ``GraphQLError`` was meant for the
    client. Errors without a path come from parsing, validation or variable coercion: they
    describe the request (a ``ValueError`` from a scalar's parser included).
    """
    return error.path is not None and not isinstance(
        error.original_error, GraphQLError | DomainError
    )


class MaskInternalErrors(MaskErrors):
    """``MaskErrors`` for :func:`is_internal` errors, each with its own reference id."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        reference = uuid.uuid4().hex
        original = error.original_error
        log.error(
            "internal error, reference %s, at %s: %r",
            reference,
            ".".join(str(p) for p in error.path or ()),
            original,
            exc_info=original if original is not None else False,
        )
        return GraphQLError(
            f"{INTERNAL_MESSAGE} (reference {reference}).",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": INTERNAL_CODE, "reference": reference},
        )


class QueryCostLimiter(SchemaExtension):
    """Adds :func:`services.gateway.graphql.cost.cost_rule`, bound to this request's variables
    (a rule class per operation: validation runs before the variables are coerced)."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_operation(self) -> Iterator[None]:
        rule = cost_rule(self.max_cost, self.execution_context.variables)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


def safety_extensions(settings: GatewaySettings) -> list[ExtensionFactory]:
    """Extension factories (strawberry builds fresh instances for every request)."""
    depth, aliases, tokens, cost = (
        settings.max_depth,
        settings.max_aliases,
        settings.max_tokens,
        settings.max_cost,
    )
    factories: list[ExtensionFactory] = [
        lambda: MaxTokensLimiter(max_token_count=tokens),
        lambda: QueryDepthLimiter(max_depth=depth),
        lambda: MaxAliasesLimiter(max_alias_count=aliases),
        lambda: QueryCostLimiter(max_cost=cost),
        MaskInternalErrors,
    ]
    if not settings.introspection:
        factories.append(DisableIntrospection)
    return factories


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """strawberry's error logging, minus internal errors: :class:`MaskInternalErrors` logs
    those once, with their reference id and traceback."""
    for error in errors:
        if not is_internal(error):
            StrawberryLogger.error(error, execution_context)


__all__ = [
    "INTERNAL_CODE",
    "MaskInternalErrors",
    "QueryCostLimiter",
    "is_internal",
    "log_errors",
    "safety_extensions",
]
