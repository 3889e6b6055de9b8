"""Each backend is configured the way production needs it."""

import stat

from sqlalchemy import text

from argos_core.db import make_engine
from argos_core.migrate import upgrade
from argos_core.settings import data_dir, default_database_url


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


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_embedded_database_is_readable_by_its_owner_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = default_database_url()
    database = data_dir() / "argos.db"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:  # WAL: the side files exist while a connection is open
            conn.exec_driver_sql("SELECT count(*) FROM tenants").scalar()
            files = [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))]
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        engine.dispose()
    assert mode(data_dir()) == 0o700


def test_a_database_left_readable_by_others_is_tightened_when_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    directory = tmp_path / "data" / "argos"
    directory.mkdir(parents=True, mode=0o755)
    directory.chmod(0o755)
    database = directory / "argos.db"
    for path in (database, directory / "argos.db-wal"):
        path.touch()
        path.chmod(0o644)
    make_engine(default_database_url()).dispose()
    assert (mode(directory), mode(database), mode(directory / "argos.db-wal")) == (
        0o700,
        0o600,
        0o600,
    )
