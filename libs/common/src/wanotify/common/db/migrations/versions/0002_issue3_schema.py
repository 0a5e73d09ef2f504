"""issue 3: templates, windows, opt-outs, sender pause, cancel and expiry

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_phone", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_opt_outs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "recipient_phone", name=op.f("pk_opt_outs")),
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("waba_id", sa.String(length=64), nullable=False),
        sa.Column("meta_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column(
            "parameter_format", sa.String(length=16), server_default=sa.text("'POSITIONAL'"), nullable=False
        ),
        sa.Column(
            "components",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_templates_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
    )
    op.create_index("ix_templates_lookup", "templates", ["tenant_id", "name", "language"], unique=False)
    op.create_index(
        "uq_templates_waba_name_language",
        "templates",
        ["tenant_id", "waba_id", "name", "language"],
        unique=True,
    )
    op.create_table(
        "conversation_windows",
        sa.Column("sender_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_phone", sa.String(length=16), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["senders.id"],
            name=op.f("fk_conversation_windows_sender_id_senders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sender_id", "recipient_phone", name=op.f("pk_conversation_windows")),
    )
    op.add_column(
        "notifications", sa.Column("conversation", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("notifications", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("notifications", sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("senders", sa.Column("paused_code", sa.String(length=32), nullable=True))
    op.add_column("senders", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "tenants",
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.drop_constraint(op.f("ck_notifications_status_known"), "notifications", type_="check")
    op.create_check_constraint(
        "status_known",
        "notifications",
        "status IN ('scheduled','queued','rate_limited','processing','sent','delivered','read','failed','canceled','expired')",
    )
    op.create_index(
        "ix_notifications_dead_letters",
        "notifications",
        ["tenant_id", "failed_at"],
        unique=False,
        postgresql_where=sa.text("status = 'failed'"),
    )
    op.create_index(
        "ix_notifications_expiring",
        "notifications",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text(
            "expires_at IS NOT NULL AND status IN ('scheduled','queued','rate_limited')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_expiring", table_name="notifications")
    op.drop_index("ix_notifications_dead_letters", table_name="notifications")
    op.drop_constraint(op.f("ck_notifications_status_known"), "notifications", type_="check")
    op.create_check_constraint(
        "status_known",
        "notifications",
        "status IN ('scheduled','queued','rate_limited','processing','sent','delivered','read','failed')",
    )
    op.drop_column("tenants", "settings")
    op.drop_column("senders", "paused_at")
    op.drop_column("senders", "paused_code")
    op.drop_column("notifications", "canceled_at")
    op.drop_column("notifications", "expires_at")
    op.drop_column("notifications", "conversation")
    op.drop_table("conversation_windows")
    op.drop_index("uq_templates_waba_name_language", table_name="templates")
    op.drop_index("ix_templates_lookup", table_name="templates")
    op.drop_table("templates")
    op.drop_table("opt_outs")
