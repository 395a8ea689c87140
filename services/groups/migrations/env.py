"""Alembic environment of the groups service: see shared/storage/migrations.py."""

from services.groups.orm import Base
from shared.storage.migrations import run_env

run_env(Base.metadata)
