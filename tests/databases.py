"""Scratch databases for tests: SQLite files and MariaDB/MySQL schemas, migrated with Alembic."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from argos_core.db import make_engine
from argos_core.migrate import upgrade

MYSQL_URL_ENV = "ARGOS_TEST_MYSQL_URL"
MYSQL_SKIP_REASON = (
    f"{MYSQL_URL_ENV} is not set; export it (e.g. mysql+pymysql://root@127.0.0.1:3306/argos_test)"
    " to run the MariaDB/MySQL tests. .ci/run always sets it."
)
BACKENDS = ("sqlite", "mysql")


def mysql_base_url() -> str | None:
    return os.environ.get(MYSQL_URL_ENV) or None


def _worker_tag() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@contextmanager
def scratch_database(backend: str, tmp_dir: Path, *, migrate: bool = True) -> Iterator[str]:
    """A brand-new, migrated database of the given backend; dropped afterwards. Yields its URL."""
    tag = f"{_worker_tag()}_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'argos_{tag}.db'}"
        if migrate:
            _migrate(url)
        yield url
        return
    base = mysql_base_url()
    assert base, MYSQL_SKIP_REASON
    parsed = make_url(base)
    name = f"{parsed.database or 'argos_test'}_{tag}"[:64]
    server = make_engine(parsed.set(database="").render_as_string(hide_password=False))
    with server.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = parsed.set(database=name).render_as_string(hide_password=False)
    try:
        if migrate:
            _migrate(url)
        yield url
    finally:
        with server.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        server.dispose()


def _migrate(url: str) -> None:
    engine: Engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
