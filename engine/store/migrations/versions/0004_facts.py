"""Schema version 4: what grade conditions read of a worker-month (metric values, findings per rule),
as JSON; months stored before have none (their conditions see zeros until the month is stored again).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("month_workers", sa.Column("facts", sa.Text))
    op.execute("UPDATE schema_version SET version = 4")


def downgrade() -> None:
    raise NotImplementedError("wangge does not downgrade a history: restore the backup taken before the upgrade")
