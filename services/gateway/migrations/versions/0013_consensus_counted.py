"""consensus_counted: fact_cop counts a meeting's consensus coding (Wenger codebook) where
there is one; the facts are rebuilt once at the gateway's next start

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")


def downgrade() -> None:
    op.execute("UPDATE view_state SET needs_rebuild = true WHERE name = 'research'")
