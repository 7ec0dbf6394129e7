"""Schema version 1: stored months, the compact rows period rules read, corrections.

The same tables as the first SQLite release of wangge created, so that a database of that release
(schema_version 1, no Alembic table) is taken as being at this revision and upgraded from here.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = ("history",)
depends_on = None


def upgrade() -> None:
    op.create_table("schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.execute("INSERT INTO schema_version (version) VALUES (0)")
    op.create_table(
        "months",
        sa.Column("month", sa.Text, primary_key=True),
        sa.Column("policy_id", sa.Text, nullable=False),
        sa.Column("policy_version", sa.Text, nullable=False),
        sa.Column("policy_hash", sa.Text, nullable=False),
        sa.Column("policy_files", sa.Text, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("run_at", sa.Text, nullable=False),
        sa.Column("worker_count", sa.Integer, nullable=False),
        sa.Column("results", sa.LargeBinary, nullable=False),
        sa.Column("period", sa.LargeBinary),
    )
    op.create_table(
        "month_workers",
        sa.Column("month", sa.Text, sa.ForeignKey("months.month", ondelete="CASCADE"), nullable=False),
        sa.Column("worker_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("town", sa.Text), sa.Column("community", sa.Text), sa.Column("grid", sa.Text),
        sa.Column("role", sa.Text), sa.Column("employment", sa.Text), sa.Column("attributes", sa.Text),
        sa.Column("score", sa.Text, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("veto_count", sa.Integer, nullable=False),
        sa.Column("stars", sa.Integer),
        sa.Column("wage", sa.Text, nullable=False),
        sa.Column("performance_base", sa.Text, nullable=False),
        sa.Column("pay", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("month", "worker_id"),
    )
    op.create_index("month_workers_worker", "month_workers", ["worker_id", "month"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("month", sa.Text, nullable=False),
        sa.Column("run_at", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("old_policy_hash", sa.Text, nullable=False),
        sa.Column("new_policy_hash", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.execute("UPDATE schema_version SET version = 1")


def downgrade() -> None:
    raise NotImplementedError("wangge does not downgrade a history: restore the backup taken before the upgrade")
