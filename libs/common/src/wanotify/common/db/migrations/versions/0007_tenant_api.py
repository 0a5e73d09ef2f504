"""issue 12: the tenant API's schema (key use and rotation, pinned tiers, template quality, uploaded
media, recipient country) and the search indexes for status, event type, template and country

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TIMESTAMP

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, TIMESTAMP(timezone=True))


def upgrade() -> None:
    op.add_column("api_keys", _ts("last_used_at"))
    op.add_column("api_keys", sa.Column("replaced_by", sa.String(40)))
    op.add_column("senders", sa.Column("tiers_pinned", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("senders", _ts("tiers_synced_at"))
    op.add_column("templates", sa.Column("quality_score", sa.String(16)))
    op.add_column("templates", sa.Column("rejected_reason", sa.Text))
    op.add_column("notifications", sa.Column("recipient_country", sa.String(2)))
    op.create_index(
        "ix_notifications_tenant_status", "notifications", ["tenant_id", "status", sa.text("created_at DESC")]
    )
    op.create_index(
        "ix_notifications_tenant_event_type",
        "notifications",
        ["tenant_id", "event_type", sa.text("created_at DESC")],
    )
    op.create_index(
        "ix_notifications_tenant_template",
        "notifications",
        ["tenant_id", sa.text("(message ->> 'name')"), sa.text("created_at DESC")],
    )
    op.create_index(
        "ix_notifications_tenant_country",
        "notifications",
        ["tenant_id", "recipient_country", sa.text("created_at DESC")],
    )
    op.create_table(
        "media",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "tenant_id", sa.String(40), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "sender_id", sa.String(40), sa.ForeignKey("senders.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("meta_media_id", sa.String(128), nullable=False),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("mime_type", sa.String(128), nullable=False),
        sa.Column("file_size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", TIMESTAMP(timezone=True), nullable=False),
    )
    op.create_index("ix_media_tenant_created", "media", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_media_tenant_created", "media")
    op.drop_table("media")
    op.drop_index("ix_notifications_tenant_country", "notifications")
    op.drop_index("ix_notifications_tenant_template", "notifications")
    op.drop_index("ix_notifications_tenant_event_type", "notifications")
    op.drop_index("ix_notifications_tenant_status", "notifications")
    op.drop_column("notifications", "recipient_country")
    op.drop_column("templates", "rejected_reason")
    op.drop_column("templates", "quality_score")
    op.drop_column("senders", "tiers_synced_at")
    op.drop_column("senders", "tiers_pinned")
    op.drop_column("api_keys", "replaced_by")
    op.drop_column("api_keys", "last_used_at")
