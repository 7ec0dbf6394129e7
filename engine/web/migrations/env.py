"""Alembic environment for the web's store: run against the engine `Store` hands over (online only)."""
from alembic import context

from engine.web.store import metadata

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                      transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
