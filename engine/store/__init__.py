"""The history's database (engine/history.py stores months and document numbers through it).

    db.py        one interface: open_database(url) -> Database; database_url(data_dir, database)
    sqlite.py    the embedded default: sqlite:///<data>/history.sqlite3 (the only sqlite3 user)
    postgres.py  a server for a city centre: postgresql://user@host/db (psycopg 3)
    schema.py    the tables, SQLAlchemy Core (the newest revision)
    migrate.py   schema migrations (Alembic), run under the write lock when a database is opened
    migrations/  the Alembic environment and its revisions (0001 ...), the same for both backends

SQLAlchemy is used here and in engine/history.py only; psycopg only through SQLAlchemy and in
postgres.py (COPY).
"""
from .db import (BUSY_MS, DATABASE_FIELD, DB_NAME, WAIT_SECONDS, Database, database_url, display_url,
                 history_folder, open_database, url_problem)

__all__ = ["Database", "open_database", "database_url", "history_folder", "url_problem", "display_url", "DB_NAME", "DATABASE_FIELD", "BUSY_MS",
           "WAIT_SECONDS"]
