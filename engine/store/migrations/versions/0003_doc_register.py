"""Schema version 3: the register of document numbers (发文登记): what each number was for, and
numbers the office used outside the tool (month NULL), so that the tool never gives one of them
again.  The numbers of version 2 move into it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_register",
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("month", sa.Text),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("issued_on", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", "number"),
    )
    op.create_index("doc_register_notice", "doc_register", ["prefix", "month", "kind"], unique=True,
                    sqlite_where=sa.text("month IS NOT NULL"), postgresql_where=sa.text("month IS NOT NULL"))
    op.execute("INSERT INTO doc_register (prefix, year, number, kind, month, title, issued_on, source, recorded_at)"
               " SELECT prefix, year, number, kind, month, month || ' ' || kind, issued_on, 'wangge', ''"
               " FROM doc_numbers")
    op.drop_table("doc_numbers")
    op.execute("UPDATE schema_version SET version = 3")


def downgrade() -> None:
    raise NotImplementedError("wangge does not downgrade a history: restore the backup taken before the upgrade")
