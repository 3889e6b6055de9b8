"""Each backend is configured the way production needs it."""

from sqlalchemy import text

from argos_core.db import make_engine


def test_engine_is_tuned_per_backend(fresh_database_url, db_backend):
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            if db_backend == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            else:
                mode = conn.execute(text("SELECT @@SESSION.sql_mode")).scalar()
                assert "STRICT_TRANS_TABLES" in mode
                charset = conn.execute(text("SELECT @@character_set_client")).scalar()
                assert charset == "utf8mb4"
                assert conn.execute(text("SELECT @@SESSION.time_zone")).scalar() == "+00:00"
        if db_backend != "sqlite":
            assert engine.pool._pre_ping
    finally:
        engine.dispose()
