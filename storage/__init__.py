"""Tables, queries and migrations (SQLAlchemy 2, Alembic). Knows nothing of ``bot/``."""
