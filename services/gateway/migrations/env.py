"""Alembic environment of the gateway service: see shared/storage/migrations.py."""

from services.gateway.orm import metadata
from shared.storage.migrations import run_env

run_env(metadata)
