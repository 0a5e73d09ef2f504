"""issue 11: a breaker per webhook endpoint, a claim per endpoint, and each event's trace

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhook_endpoints",
        sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("webhook_endpoints", sa.Column("breaker_open_until", sa.DateTime(timezone=True)))
    op.add_column("webhook_events", sa.Column("traceparent", sa.String(64)))
    op.create_index(
        "ix_webhook_deliveries_endpoint_due",
        "webhook_deliveries",
        ["endpoint_id", "next_attempt_at", "id"],
        postgresql_where=sa.text("status IN ('pending', 'delivering')"),
    )
    op.create_index(
        "ix_webhook_deliveries_in_flight",
        "webhook_deliveries",
        ["endpoint_id"],
        postgresql_where=sa.text("status = 'delivering'"),
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_in_flight", "webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_endpoint_due", "webhook_deliveries")
    op.drop_column("webhook_events", "traceparent")
    op.drop_column("webhook_endpoints", "breaker_open_until")
    op.drop_column("webhook_endpoints", "consecutive_failures")
