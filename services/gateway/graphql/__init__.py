"""The national GraphQL API (strawberry): schema, types one per module, per-request context."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext

from services.gateway.graphql.coding.mutation import CodingMutation
from services.gateway.graphql.context import GatewayContext
from services.gateway.graphql.query import Query
from services.gateway.graphql.safety import log_errors, safety_extensions
from services.gateway.graphql.subscription import Subscription
from services.gateway.settings import GatewaySettings
from shared.runtime.graphql_errors import DomainErrors


@strawberry.type
class Mutation(CodingMutation):
    """The national API's only writes: the researchers' coding workspace."""


class GatewaySchema(strawberry.Schema):
    """A strawberry schema whose internal errors are logged once, with their reference id.

    ``hide_suggestions`` (introspection off): no "Did you mean 'meetings'?" in any error
    (unknown fields, arguments, types, enum values, input fields), which would otherwise
    reveal the schema a field name at a time."""

    hide_suggestions = False

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        if self.hide_suggestions:
            for error in errors:
                error.message = without_suggestions(error.message)
        log_errors(errors, execution_context)


def without_suggestions(message: str) -> str:
    """graphql-core ends a message with " Did you mean ...?" when it has suggestions."""
    return message.split(" Did you mean ", 1)[0]


def build_schema(settings: GatewaySettings | None = None) -> GatewaySchema:
    """The schema with the limits, masking and introspection switch of ``settings``.

    ``None``: the built-in defaults (the demo profile), not the environment's ``MGN_GATEWAY_*``.
    """
    settings = settings or GatewaySettings.model_construct()
    built = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*safety_extensions(settings), DomainErrors],
    )
    built.hide_suggestions = not settings.introspection
    return built


schema = build_schema()  # the demo defaults, for tools and tests that import it

__all__ = ["GatewayContext", "GatewaySchema", "Query", "build_schema", "schema"]
