"""``@resolved("...")``: ``@strawberry.field(description=...)`` typed for mypy strict.

strawberry types ``field(description=...)`` used as a decorator as ``Any``, which strict
mypy refuses as an untyped decorator; this keeps the decorated method's own type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import strawberry

F = TypeVar("F", bound=Callable[..., Any])


def resolved(description: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        return cast(F, strawberry.field(fn, description=description))

    return decorate


def mutation(description: str) -> Callable[[F], F]:
    """``@strawberry.mutation(description=...)``, typed like :func:`resolved`."""

    def decorate(fn: F) -> F:
        return cast(F, strawberry.mutation(fn, description=description))

    return decorate
