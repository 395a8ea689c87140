"""Database plumbing every service uses: engines and sessions.

Services create and change their tables with Alembic migrations
(:mod:`shared.storage.migrations`); :func:`create_schema` is for tests' throwaway databases.
"""

from shared.storage.engine import (
    AsyncSession,
    DatabaseUrlError,
    create_engine,
    normalise_url,
    session_factory,
    sqlite_url,
)
from shared.storage.schema import create_schema
from shared.storage.types import UtcDateTime

__all__ = [
    "AsyncSession",
    "DatabaseUrlError",
    "UtcDateTime",
    "create_engine",
    "create_schema",
    "normalise_url",
    "session_factory",
    "sqlite_url",
]
