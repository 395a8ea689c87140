"""Opaque cursors: base64 of the sort key of the last row of a page.

A cursor names its connection (``kind``) so one from ``groups`` is refused by
``meetings`` with a clear error, rather than silently paging wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from graphql import GraphQLError

from services.gateway.graphql.errors import bad_argument

Parser = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(_text(value)).astimezone(UTC)


def _day(value: Any) -> date:
    return date.fromisoformat(_text(value))


TEXT: Parser = _text
INSTANT: Parser = _instant
DAY: Parser = _day


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return str(value)


def encode(kind: str, key: Sequence[Any]) -> str:
    raw = json.dumps([kind, *map(_jsonable, key)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(kind: str, cursor: str, parsers: Sequence[Parser]) -> tuple[Any, ...]:
    """The sort key in ``cursor``; a GraphQL error naming the problem if it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(parsers) + 1 or raw[0] != kind:
            raise ValueError("not a cursor of this connection")
        return tuple(parse(value) for parse, value in zip(parsers, raw[1:], strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid(kind, cursor) from exc


def invalid(kind: str, cursor: str) -> GraphQLError:
    shown = cursor if len(cursor) <= 40 else cursor[:40] + "..."
    return bad_argument(
        "INVALID_CURSOR",
        "after",
        f"Invalid cursor {shown!r} for {kind}: pass the endCursor of a previous page of "
        f"{kind} (or omit 'after' to start at the beginning).",
    )
