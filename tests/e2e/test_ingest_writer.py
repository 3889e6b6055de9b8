"""The group-commit writer under pressure: acknowledgement only after commit, a full queue,
and a database that goes away and comes back."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from argos_core.services.agent_inventory import AgentInventory
from ingest_server.context import IngestConfig
from ingest_server.health import DatabaseHealth
from ingest_server.metrics import IngestMetrics
from ingest_server.writer import GroupCommitWriter
from tests.e2e.conftest import count_rows
from tests.e2e.support import (
    ServerThread,
    TcpProxy,
    enroll,
    make_branch,
    metric,
    post_json,
    request,
    sample,
    scrape,
    wait_until,
)
from tests.factories import agent_row

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
    proxy, proxied = TcpProxy.before_database(ingest_db)
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


def test_requests_queued_behind_a_flush_are_committed_together_in_one(
    ingest_server, ingest_services, ingest_db
):
    """While one transaction waits, the requests that arrive queue up and the next
    transaction takes them all: two commits for twenty requests."""
    branch = make_branch(ingest_services)
    first, *others = [enroll(ingest_server, branch, ingest_services) for _ in range(20)]
    before = scrape(ingest_server.url)

    def send(agent):
        return post_json(
            ingest_server.url,
            TELEMETRY,
            {"samples": [sample(T0 + i) for i in range(10)]},
            token=agent.token,
        )

    writer = ingest_server.runtime.context.writer
    with ThreadPoolExecutor(len(others) + 1) as pool:
        with WriteLock(ingest_services, ingest_db, first.agent_id):
            replies = [pool.submit(send, first)]
            assert wait_until(lambda: writer.flushing_rows == 10, 10)
            replies += [pool.submit(send, agent) for agent in others]
            assert wait_until(lambda: writer.pending_rows == 10 * len(others), 10)
        accepted = [r.result(30).json["accepted"] for r in replies]
    after = scrape(ingest_server.url)
    assert accepted == [10] * 20
    flushes = metric(after, "argos_writer_flush_rows_count") - metric(
        before, "argos_writer_flush_rows_count"
    )
    rows = metric(after, "argos_writer_flush_rows_sum") - metric(
        before, "argos_writer_flush_rows_sum"
    )
    assert (flushes, rows) == (2, 200)
    assert sum(count_rows(ingest_services, a.agent_id) for a in [first, *others]) == 200


def test_requests_on_open_connections_while_stopping_get_503_not_500(ingest_db, ingest_services):
    """Between ``runtime.stop()`` (threads released) and the connections closing."""

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


def test_a_failing_commit_hook_neither_loses_rows_nor_stops_the_writer(ingest_db, ingest_services):
    """What the writer hands on after a commit (to alert evaluation) can fail; the rows are
    stored and acknowledged all the same, and the next requests are written too."""
    branch = make_branch(ingest_services)
    agent = ingest_services.enrollment.enroll(
        branch.org_id, branch.key, AgentInventory.parse(branch.inventory())
    )
    agent_id = agent_row(ingest_services, agent.agent_uuid).agent_id
    handed_on = []

    def fail(committed):
        handed_on.append(committed)
        raise RuntimeError("alert evaluation is broken")

    async def scenario():
        metrics = IngestMetrics()
        with ThreadPoolExecutor(1) as executor:
            health = DatabaseHealth(ingest_services.engine, executor, metrics)
            writer = GroupCommitWriter(ingest_services.engine, health, metrics, on_commit=fail)
            writer.start()
            results = [
                await asyncio.wait_for(writer.submit(agent_id, [_row(agent_id, T0 + i)]), 10)
                for i in range(3)
            ]
            await asyncio.wait_for(writer.drain_and_stop(), 10)
        return results

    results = asyncio.run(scenario())
    assert [r.accepted for r in results] == [1, 1, 1]
    assert len(handed_on) == 3
    assert count_rows(ingest_services, agent_id) == 3


def _row(agent_id: int, ts: int) -> tuple:
    return (agent_id, ts, 1.0, 2.0, 3.0, 4, 5, 0.5, 60)
