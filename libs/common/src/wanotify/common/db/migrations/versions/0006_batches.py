"""issue 12: a bulk batch's notifications by tenant and batch, newest first

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notifications_tenant_batch",
        "notifications",
        ["tenant_id", "batch_id", sa.text("created_at DESC"), sa.text("id DESC")],
        postgresql_where=sa.text("batch_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_tenant_batch", "notifications")
