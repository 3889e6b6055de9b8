"""Generating the demo's history leaves its pooled connection as it found it, even when it fails."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, StatementError

from argos_core.db import make_engine
from argos_core.demo.history import _fill

BROKEN_PROFILES = [{"profile": 0, "n": 0, "cpu": 1.0}]  # the other columns are missing


def test_a_failed_fill_restores_foreign_key_checks_and_drops_its_table(fresh_database_url):
    engine = make_engine(fresh_database_url, pool_size=1)
    try:
        with pytest.raises(StatementError):
            _fill(engine, [1], 0, BROKEN_PROFILES, seed=1)
        with engine.connect() as conn:  # the one pooled connection _fill used
            if conn.dialect.name != "sqlite":
                assert conn.exec_driver_sql("SELECT @@SESSION.foreign_key_checks").scalar() == 1
            with pytest.raises(DBAPIError):
                conn.exec_driver_sql("SELECT count(*) FROM demo_profiles")
    finally:
        engine.dispose()
