"""The meetings service's GraphQL API."""

from services.meetings.api.context import MeetingsContext
from services.meetings.api.schema import schema

__all__ = ["MeetingsContext", "schema"]
