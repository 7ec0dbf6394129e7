"""Offices as data (issue 15 item 2, tenancy): a city centre keeps many county offices in one web
store.  Each office gets a short ascii `code`, its `kind` (county | city), its city (`parent_id`),
its own data folder (`data_dir`: uploads, months' outputs, policy versions, rosters, office.yaml)
and its history's address (`database`); a session gets the county a city administrator acts in.

Existing rows become county offices with code office<id> and no data_dir: NULL means the server's
own data folder (`wangge serve --data`), so an existing single-office install works as before.

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
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("code", sa.String(32), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="county"))
        batch.add_column(sa.Column("parent_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("data_dir", sa.Text, nullable=True))
        batch.add_column(sa.Column("database", sa.Text, nullable=True))
    op.execute("UPDATE offices SET code = 'office' || CAST(id AS VARCHAR(20)) WHERE code IS NULL")
    with op.batch_alter_table("offices") as batch:
        batch.alter_column("code", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_offices_code", ["code"])
        batch.create_foreign_key("fk_offices_parent", "offices", ["parent_id"], ["id"])
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("acting_office_id", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("acting_office_id")
    with op.batch_alter_table("offices") as batch:
        batch.drop_constraint("fk_offices_parent", type_="foreignkey")
        batch.drop_constraint("uq_offices_code", type_="unique")
        for col in ("database", "data_dir", "parent_id", "kind", "code"):
            batch.drop_column(col)
