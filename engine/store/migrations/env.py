"""Alembic environment of the history (engine/store): runs on the connection the store hands over in
`config.attributes["connection"]`, inside the transaction the store opened and locked, so that all
pending revisions are applied together or not at all and two processes never migrate at once.

No alembic.ini: `engine.store.migrate.upgrade()` builds the configuration (script location, this
package's version table) and is the only way in; `wangge history upgrade` calls it.
"""
from alembic import context

from engine.store.migrate import VERSION_TABLE
from engine.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():     # the store's transaction is open: Alembic opens none of its own
    context.run_migrations()
