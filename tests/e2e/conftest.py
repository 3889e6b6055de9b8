"""Fixtures for the ingest end-to-end tests: one real server per module and backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from argos_core.bootstrap import Services, bootstrap
from ingest_server.context import IngestConfig
from tests.databases import scratch_database
from tests.e2e.support import Branch, EnrolledAgent, ServerThread, enroll, make_branch

# Tests change the database beneath the server and look at once: no console answer is shared
# (the console API's tests share them as the server does by default).
TEST_CONFIG = IngestConfig(
    agent_rate=0, enroll_failure_rate=0, health_retry_interval_s=0.2, shared_answer_ttl_s=0
)


@pytest.fixture(scope="module")
def ingest_db(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(db_backend, tmp_path_factory.mktemp("ingest")) as url:
        yield url


@pytest.fixture(scope="module")
def ingest_services(ingest_db: str) -> Iterator[Services]:
    services = bootstrap(ingest_db)
    yield services
    services.close()


@pytest.fixture
def fresh_services(fresh_database_url: str) -> Iterator[Services]:
    """Services on a database of the test's own, for tests that start their own servers."""
    services = bootstrap(fresh_database_url)
    yield services
    services.close()


@pytest.fixture(scope="module")
def ingest_server(ingest_db: str) -> Iterator[ServerThread]:
    server = ServerThread(ingest_db, TEST_CONFIG).start()
    yield server
    server.stop()


@pytest.fixture
def branch(ingest_services: Services) -> Branch:
    return make_branch(ingest_services)


@pytest.fixture
def agent(ingest_server: ServerThread, branch: Branch, ingest_services: Services) -> EnrolledAgent:
    return enroll(ingest_server, branch, ingest_services)


def count_rows(services: Services, agent_id: int | None = None) -> int:
    query = "SELECT COUNT(*) FROM telemetry"
    params = {}
    if agent_id is not None:
        query += " WHERE agent_id = :a"
        params["a"] = agent_id
    with services.engine.connect() as conn:
        return conn.execute(text(query), params).scalar_one()
