"""Alembic environment of the console: see shared/storage/migrations.py."""

from services.console.orm import Base
from shared.storage.migrations import run_env

run_env(Base.metadata)
