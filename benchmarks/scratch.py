"""Scratch databases for the benchmark scripts: created beside the real ones, dropped after."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url

from argos_core.db import make_engine


def server_engine(url: URL) -> Engine:
    """An engine on the server of ``url``, with no database selected (to create/drop one)."""
    return make_engine(url.set(database="").render_as_string(hide_password=False))


def create_database(base_url: str, workdir: Path, prefix: str = "argos_bench") -> str:
    """A new, empty database: a file in ``workdir`` for SQLite, else one on the MySQL server."""
    url = make_url(base_url)
    name = f"{url.database or prefix}_{uuid.uuid4().hex[:6]}"
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{workdir / name}.db"
    engine = server_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        return
    engine = server_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{url.database}`")
    finally:
        engine.dispose()
