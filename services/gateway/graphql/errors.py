"""Errors a GraphQL client can act on: a message plus ``extensions.code`` (and ``field``)."""

from __future__ import annotations

from graphql import GraphQLError


def bad_argument(code: str, field: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, "field": field})
