"""Splitting a long list of values into pieces a SQL ``IN (...)`` takes comfortably."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Far below SQLite's bound-parameter limit (32,766) and PostgreSQL's (65,535), with room for
# the statement's other parameters.
IN_CHUNK = 5000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> list[Sequence[T]]:
    """``items`` in consecutive pieces of at most ``size`` (none for no items)."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]
