"""Alembic migrations of the Argos schema."""
