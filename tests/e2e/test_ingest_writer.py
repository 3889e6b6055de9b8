"""The group-commit writer under pressure: acknowledgement only after commit, a full queue,
and a database that goes away and comes back."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ingest_server.context import IngestConfig
from tests.e2e.conftest import count_rows
from tests.e2e.support import (
    ServerThread,
    TcpProxy,
    enroll,
    make_branch,
    post_json,
    request,
    sample,
    wait_until,
)

TELEMETRY = "/api/v1/telemetry"
T0 = 1_790_000_000


class WriteLock:
    """Holds a lock that makes the writer's next transaction wait, from another connection."""

    def __init__(self, services, database_url: str, agent_id: int) -> None:
        self._url = make_url(database_url)
        self._services = services
        self._agent_id = agent_id

    def __enter__(self) -> WriteLock:
        if self._url.get_backend_name() == "sqlite":
            self._conn = sqlite3.connect(self._url.database, isolation_level=None)
            self._conn.execute("BEGIN IMMEDIATE")
        else:
            self._conn = self._services.engine.connect()
            self._tx = self._conn.begin()
            self._conn.execute(
                text("SELECT id FROM agents WHERE id = :a FOR UPDATE"), {"a": self._agent_id}
            )
        return self

    def __exit__(self, *exc) -> None:
        if isinstance(self._conn, sqlite3.Connection):
            self._conn.execute("ROLLBACK")
        else:
            self._tx.rollback()
        self._conn.close()


def test_agent_is_answered_only_after_commit_and_a_full_queue_is_503(ingest_db, ingest_services):
    server = ServerThread(ingest_db, IngestConfig(agent_rate=0, max_pending_rows=3)).start()
    writer = server.runtime.context.writer
    try:
        branch = make_branch(ingest_services)
        first, second, third = (enroll(server, branch, ingest_services) for _ in range(3))

        def send(agent, count):
            samples = [sample(T0 + i) for i in range(count)]
            return post_json(server.url, TELEMETRY, {"samples": samples}, token=agent.token)

        with ThreadPoolExecutor(2) as pool:
            with WriteLock(ingest_services, ingest_db, first.agent_id):
                flushing = pool.submit(send, first, 3)
                assert wait_until(lambda: writer.flushing_rows == 3, 10), (
                    flushing.done() and flushing.result()
                )
                queued = pool.submit(send, second, 2)
                assert wait_until(lambda: writer.pending_rows == 2, 10)
                full = send(third, 2)
                assert not flushing.done()
                assert not queued.done()
                assert count_rows(ingest_services, first.agent_id) == 0
            replies = flushing.result(timeout=30), queued.result(timeout=30)
    finally:
        server.stop()
    assert [(r.status, r.json["accepted"]) for r in replies] == [(200, 3), (200, 2)]
    assert count_rows(ingest_services, first.agent_id) == 3
    assert full.status == 503
    assert full.json["error"] == "overloaded"
    assert int(full.headers["retry-after"]) >= 1
    assert count_rows(ingest_services, third.agent_id) == 0


def test_database_outage_gives_quick_503s_and_ingestion_resumes_by_itself(
    db_backend, ingest_db, ingest_services
):
    if db_backend != "mysql":
        pytest.skip("cutting the connection needs a network database; SQLite is a local file")
    url = make_url(ingest_db)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 3306)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    config = IngestConfig(agent_rate=0, credentials_ttl_s=0.2, health_retry_interval_s=0.2)
    server = ServerThread(proxied, config).start()
    acknowledged = 0
    try:
        branch = make_branch(ingest_services)
        agent = enroll(server, branch, ingest_services)

        def send(ts: int):
            return post_json(server.url, TELEMETRY, {"samples": [sample(ts)]}, token=agent.token)

        assert send(T0).status == 200
        acknowledged += 1
        proxy.cut()
        outage = [send(T0 + 1 + i) for i in range(3)]
        assert [r.status for r in outage] == [503, 503, 503]
        assert all(r.headers.get("retry-after") for r in outage)
        assert outage[-1].json["error"] == "database_unavailable"
        health = request(server.url, "GET", "/healthz")
        assert (health.status, health.json["database"]) == (503, "unavailable")
        proxy.restore()
        assert wait_until(lambda: request(server.url, "GET", "/healthz").status == 200, 10)
        resumed = send(T0 + 10)
        assert resumed.status == 200
        acknowledged += resumed.json["accepted"]
    finally:
        server.stop()
        proxy.close()
    assert count_rows(ingest_services, agent.agent_id) == acknowledged


def test_concurrent_requests_are_committed_together_in_few_flushes(ingest_server, ingest_services):
    branch = make_branch(ingest_services)
    agents = [enroll(ingest_server, branch, ingest_services) for _ in range(20)]
    metrics = ingest_server.runtime.context.metrics
    flushes_before = metrics.flush_rows._sum.get(), _count(metrics.flush_rows)
    barrier = threading.Barrier(len(agents))

    def send(agent):
        barrier.wait()
        return post_json(
            ingest_server.url,
            TELEMETRY,
            {"samples": [sample(T0 + i) for i in range(10)]},
            token=agent.token,
        )

    with ThreadPoolExecutor(len(agents)) as pool:
        replies = list(pool.map(send, agents))
    assert [r.json["accepted"] for r in replies] == [10] * len(agents)
    flushes = _count(metrics.flush_rows) - flushes_before[1]
    assert metrics.flush_rows._sum.get() - flushes_before[0] == 200
    assert flushes < len(agents)
    assert sum(count_rows(ingest_services, a.agent_id) for a in agents) == 200


def _count(histogram) -> int:
    return sum(bucket.get() for bucket in histogram._buckets)


def test_requests_on_open_connections_while_stopping_get_503_not_500(ingest_db, ingest_services):
    """Between ``runtime.stop()`` (threads released) and the connections closing."""
    import asyncio

    server = ServerThread(ingest_db).start()
    try:
        branch = make_branch(ingest_services)
        agent = enroll(server, branch, ingest_services)
        asyncio.run_coroutine_threadsafe(server.runtime.stop(), server._loop).result(20)

        enrolling = post_json(server.url, "/api/v1/enroll", branch.inventory())
        reporting = post_json(server.url, TELEMETRY, {"samples": [sample(T0)]}, token=agent.token)
        health = request(server.url, "GET", "/healthz")
        for reply in (enrolling, reporting):
            assert reply.status == 503, reply.body
            assert reply.json["message"] == "The server is shutting down; retry later."
            assert reply.headers["retry-after"] == "1"
        assert health.status == 503
        assert health.json == {"status": "stopping", "database": "unavailable"}
        assert count_rows(ingest_services, agent.agent_id) == 0
    finally:
        server.stop()
