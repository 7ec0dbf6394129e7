"""Policy versions and appeals (issue 14).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("policy_id", sa.String(100), nullable=False),
        sa.Column("version", sa.String(100), nullable=False, server_default=""),
        sa.Column("effective_from", sa.String(7), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("based_on", sa.Integer, nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.String(32), nullable=True),
        sa.Column("published_by", sa.String(64), nullable=True),
        sa.Column("published_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_policy_versions_office", "policy_versions", ["office_id", "state"])
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("office_id", sa.Integer, sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("worker_id", sa.String(100), nullable=False),
        sa.Column("worker_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("town", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("filed_at", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.String(32), nullable=True),
        sa.Column("decision", sa.Text, nullable=True),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("notice", sa.Text, nullable=True),
    )
    op.create_index("ix_appeals_office_month", "appeals", ["office_id", "month"])


def downgrade() -> None:
    op.drop_table("appeals")
    op.drop_table("policy_versions")
