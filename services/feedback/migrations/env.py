"""Alembic environment of the feedback service: see shared/storage/migrations.py."""

from services.feedback.orm import Base
from shared.storage.migrations import run_env

run_env(Base.metadata)
