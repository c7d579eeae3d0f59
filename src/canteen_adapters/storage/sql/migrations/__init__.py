"""Alembic migrations of canteen's SQL schema, run by ``storage.sql.upgrade``."""
