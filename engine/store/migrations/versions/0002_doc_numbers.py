"""Schema version 2: document numbers (发文字号) issued for notices, so that a re-render keeps its
number and date and the next notice of the year takes the next number.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_numbers",
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("month", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", "number"),
        sa.UniqueConstraint("prefix", "month", "kind"),
    )
    op.execute("UPDATE schema_version SET version = 2")


def downgrade() -> None:
    raise NotImplementedError("wangge does not downgrade a history: restore the backup taken before the upgrade")
