"""Alembic migrations; run them with `widget migrate` (serve and demo run them too)."""
