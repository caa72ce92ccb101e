"""Storage: the schema, its migrations, the archive store and the full-text index backends.

Services reach the database only through :class:`~chatkeeper.store.archive.SqlArchive` (and the
writer it hands out); the backend (SQLite, PostgreSQL, MySQL/MariaDB/TiDB) is chosen once, from
the URL, by :func:`~chatkeeper.store.engine.make_engine`.
"""
