"""Shared fixtures: every database test runs on SQLite and on a real MariaDB/MySQL server.

* ``db_backend`` — parametrised over ``sqlite`` and ``mysql`` (mysql skips, with the reason,
  when ``ARGOS_TEST_MYSQL_URL`` is unset).
* ``engine`` — a migrated scratch database per backend and test session.
* ``session_factory`` / ``services`` — each test runs inside an outer transaction that is
  rolled back afterwards; the services' own commits become savepoints.
* ``fresh_database_url`` — a brand-new migrated database for tests that need real commits
  visible to other processes or connections (servers, races); dropped afterwards.
"""

from __future__ import annotations

import os

# GUI tests never need a screen; set before anything creates a QApplication.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argos_core.bootstrap import Services, build_services
from argos_core.db import make_engine
from argos_core.scope import Principal
from tests.databases import BACKENDS, MYSQL_SKIP_REASON, mysql_base_url, scratch_database


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "mysql" and not mysql_base_url():
        if os.environ.get("ARGOS_REQUIRE_MYSQL"):
            pytest.fail(f"ARGOS_REQUIRE_MYSQL is set but {MYSQL_SKIP_REASON}")
        pytest.skip(MYSQL_SKIP_REASON)
    return request.param


@pytest.fixture(scope="session")
def engine(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with scratch_database(db_backend, tmp_path_factory.mktemp("db")) as url:
        eng = make_engine(url)
        yield eng
        eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield factory
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def services(session_factory: sessionmaker[Session]) -> Services:
    return build_services(session_factory, database_url="test://rolled-back")


@pytest.fixture
def fresh_database_url(db_backend: str, tmp_path) -> Iterator[str]:
    with scratch_database(db_backend, tmp_path) as url:
        yield url


@pytest.fixture
def superadmin() -> Principal:
    return Principal("root", "superadmin", source="tests")
