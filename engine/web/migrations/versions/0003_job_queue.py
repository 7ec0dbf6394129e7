"""The job queue for worker processes (issue 15): jobs.attempts, and on PostgreSQL procrastinate's
tables, functions and triggers (its schema.sql of the installed version, engine/web/pgqueue.py).

A later procrastinate release that changes its schema comes with a revision here that applies its
migration files (procrastinate/sql/migrations/) in order.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from engine.web.pgqueue import install_schema

        install_schema(bind)


def downgrade() -> None:
    # procrastinate's objects stay: an older release never looks at them, and they may hold jobs
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("attempts")
