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
    """A strawberry schema whose internal errors are logged once, with their reference id."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors, execution_context)


def build_schema(settings: GatewaySettings | None = None) -> GatewaySchema:
    """The schema with the limits, masking and introspection switch of ``settings``.

    ``None``: the built-in defaults (the demo profile), not the environment's ``MGN_GATEWAY_*``.
    """
    settings = settings or GatewaySettings.model_construct()
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[*safety_extensions(settings), DomainErrors],
    )


schema = build_schema()  # the demo defaults, for tools and tests that import it

__all__ = ["GatewayContext", "GatewaySchema", "Query", "build_schema", "schema"]
