"""Alembic environment of the meetings service: see shared/storage/migrations.py."""

from services.meetings.orm import Base
from shared.storage.migrations import run_env

run_env(Base.metadata)
