"""issue 12: the indexes of the notification search (a batch, a recipient, metadata containment)

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
    op.create_index(
        "ix_notifications_tenant_recipient",
        "notifications",
        ["tenant_id", "recipient_phone", sa.text("created_at DESC")],
    )
    op.create_index(
        "ix_notifications_metadata",
        "notifications",
        ["metadata"],
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_metadata", "notifications")
    op.drop_index("ix_notifications_tenant_recipient", "notifications")
    op.drop_index("ix_notifications_tenant_batch", "notifications")
