"""The GraphQL API of the groups service."""

from services.groups.api.context import GroupsContext
from services.groups.api.schema import schema

__all__ = ["GroupsContext", "schema"]
