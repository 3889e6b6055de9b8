"""Argos on a real 3-node MariaDB Galera cluster behind haproxy (issue 13).

The test brings the cluster up itself with ``deploy/galera/argos-galera`` (installing its
packages first where it can) and is skipped only when Galera cannot run on this machine,
with the reason. One test, one cluster: its parts share the cluster's start-up time.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from argos_core.bootstrap import bootstrap
from argos_core.db import make_engine
from argos_core.leases import Lease
from argos_core.partitions import (
    DAY_S,
    SWAPPED_OUT,
    drop_before,
    partition_name,
    prepare_since,
)
from argos_core.services.agent_inventory import AgentInventory
from argos_core.telemetry_store import agent_credentials
from ingest_server.context import IngestConfig
from tests.e2e.support import ServerThread, enroll_http, make_branch, post_json, wait_until

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "deploy" / "galera" / "argos-galera"
DRILLS = ROOT / "benchmarks" / "galera_drills.py"
STALL_LIMIT_S = 10.0


def _cluster(directory: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CLUSTER), "--dir", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _galera_or_skip() -> None:
    checked = _cluster(Path(tempfile.gettempdir()), "check")
    if checked.returncode == 0:
        return
    installed = _cluster(Path(tempfile.gettempdir()), "install", timeout=600)
    if installed.returncode != 0:
        reason = f"{checked.stdout.strip()}; installing failed: {installed.stderr.strip()[-300:]}"
        print(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def galera() -> Iterator[tuple[Path, dict]]:
    _galera_or_skip()
    work = Path(tempfile.mkdtemp(prefix="argos-galera-test-"))
    work.chmod(0o755)  # run as root, the nodes run as the mysql user
    directory = work / "cluster"
    ports = [f"--ingest-port={_free_port()}", f"--ingest-port={_free_port()}"]
    started = _cluster(directory, "start", "--nodes", "3", *ports)
    try:
        assert started.returncode == 0, started.stderr
        status = json.loads(_cluster(directory, "status", "--json").stdout)
        yield directory, status
    finally:
        _cluster(directory, "stop")
        shutil.rmtree(work, ignore_errors=True)


def _on_every_node(status: dict, sql: str) -> list:
    """``sql`` run on each node once it has applied everything committed in the cluster;
    what each answered (None for a statement without rows)."""
    values = []
    for node in status["nodes"]:
        engine = create_engine(f"mysql+pymysql://root@127.0.0.1:{node['sql_port']}/argos")
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
                result = conn.execute(text(sql))
                values.append(result.scalar() if result.returns_rows else None)
        finally:
            engine.dispose()
    return values


def _node_url(node: dict) -> str:
    return f"mysql+pymysql://root@127.0.0.1:{node['sql_port']}/argos"


def _an_agent_enrolled_on_one_node_is_known_at_once_on_another(status: dict) -> None:
    """Node 2 is held behind (``FLUSH TABLES WITH READ LOCK`` stops it applying write sets)
    while an agent enrolls on node 1: a plain read on node 2 does not see the agent yet, the
    credentials lookup waits until node 2 has caught up, then sees it."""
    node1, node2 = status["nodes"][0], status["nodes"][1]
    services = bootstrap(status["database_url"])
    on_node1 = bootstrap(_node_url(node1))
    reader = make_engine(_node_url(node2))
    holder = create_engine(_node_url(node2)).connect()
    try:
        branch = make_branch(services)
        holder.exec_driver_sql("FLUSH TABLES WITH READ LOCK")
        inventory = AgentInventory.parse(
            {"hostname": "h", "machine_id": f"m-{uuid.uuid4().hex}", "os": "L"}
        )
        agent = on_node1.enrollment.enroll(branch.org_id, branch.key, inventory).agent_uuid
        with reader.connect() as conn:
            query = text("SELECT COUNT(*) FROM agents WHERE uuid = :u")
            assert conn.execute(query, {"u": agent}).scalar() == 0  # node 2 is behind
        found: dict = {}
        ready = threading.Event()

        def look_up() -> None:
            with reader.connect() as conn:
                found.update(agent_credentials(conn, [agent]))
            ready.set()

        lookup = threading.Thread(target=look_up)
        lookup.start()
        waiting = text(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
            " WHERE INFO LIKE 'SET STATEMENT wsrep_sync_wait%' AND INFO LIKE '%agents%'"
        )
        assert wait_until(
            lambda: ready.is_set() or holder.execute(waiting).scalar() == 1, timeout=30
        )
        holder.exec_driver_sql("UNLOCK TABLES")
        assert ready.wait(30)
        lookup.join(5)
        assert agent in found
    finally:
        holder.close()
        reader.dispose()
        on_node1.close()
        services.close()


def _lease_claims_made_on_two_nodes_at_once_have_one_winner(status: dict) -> None:
    """Node 2's claim commits while node 1's is about to: node 1's commit fails at
    certification (1213) and its claim, run again, finds the lease taken."""
    first = make_engine(_node_url(status["nodes"][0]))
    second = make_engine(_node_url(status["nodes"][1]))
    try:
        ttl, name = timedelta(minutes=5), f"drill.{uuid.uuid4().hex[:8]}"
        mine, theirs = (
            Lease(first, name, "first", ttl),
            Lease(second, name, "second", ttl),
        )
        assert mine.claim()
        mine.release()
        interleaved: list[bool] = []

        @event.listens_for(first, "commit")
        def the_other_node_claims_first(_conn) -> None:
            if not interleaved:
                interleaved.append(theirs.claim())

        assert mine.claim() is False
        assert interleaved == [True]
        assert mine.holder().owner == "second"
    finally:
        first.dispose()
        second.dispose()


def _expired_days_dropped_through_one_node_are_gone_on_every_node(status: dict) -> None:
    """Housekeeping's partition drop (a swap, a DROP TABLE, a DROP PARTITION) replicates:
    every node ends with the same partitions and no table left swapped out."""
    engine = make_engine(status["database_url"])
    today = int(time.time()) // DAY_S * DAY_S
    try:
        with engine.begin() as conn:
            prepare_since(conn, today - 5 * DAY_S)
            conn.execute(
                text("INSERT INTO telemetry (agent_id, ts, cpu_percent) VALUES (424242, :ts, 1)"),
                [{"ts": today - d * DAY_S + 5} for d in range(5, -1, -1)],
            )
        dropped, _ = drop_before(engine, today - 2 * DAY_S)
        assert dropped[-3:] == [partition_name(today - d * DAY_S) for d in (5, 4, 3)]
    finally:
        engine.dispose()
    left = _on_every_node(status, "SELECT COUNT(*) FROM telemetry WHERE agent_id = 424242")
    assert left == [3, 3, 3]
    shapes = _on_every_node(
        status,
        "SELECT GROUP_CONCAT(partition_name ORDER BY partition_ordinal_position)"
        " FROM information_schema.partitions WHERE table_schema = DATABASE()"
        " AND table_name = 'telemetry'",
    )
    assert len(set(shapes)) == 1 and partition_name(today - 2 * DAY_S) in shapes[0]
    swapped = _on_every_node(
        status,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
        f" AND table_name = '{SWAPPED_OUT}'",
    )
    assert swapped == [0, 0, 0]


@pytest.mark.slow
@pytest.mark.xdist_group("machine_load")  # not beside the benchmark smoke runs
def test_argos_on_a_galera_cluster_loses_nothing_when_nodes_and_servers_die(galera):
    directory, status = galera
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    drills = subprocess.run(
        [sys.executable, str(DRILLS), "--cluster-dir", str(directory), "--json",
         "--agents", "6", "--observe", "3"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert drills.returncode == 0, drills.stderr[-3000:]
    results = {r["name"]: r for r in json.loads(drills.stdout.splitlines()[-1])}
    assert set(results) == {"kill-db-node", "kill-server", "stop-target"}
    for name, r in results.items():
        assert r["acknowledged"] > 0, (name, r)
        assert (r["lost"], r["duplicated"], r["server_errors"]) == (0, 0, 0), (name, r)
        assert r["rows_per_node"] == [r["acknowledged_total"]] * 3, (name, r)
        assert r["stall_s"] < STALL_LIMIT_S, (name, r)

    # The writer keeps each transaction inside the node's write-set limit: with room for
    # 2,000 rows, five 1,000-sample requests queued together are written in several commits.
    url = status["database_url"]
    _on_every_node(status, "SET GLOBAL wsrep_max_ws_rows = 2000")
    services = bootstrap(url)
    server = ServerThread(url, IngestConfig(agent_rate=0, max_delay_s=0.5)).start()
    try:
        branch = make_branch(services)
        agents = [enroll_http(server.url, branch, services) for _ in range(5)]
        bodies = [
            {"samples": [{"ts": 1_700_000_000 + i, "cpu_percent": 1.0} for i in range(1000)]}
            for _ in agents
        ]
        with ThreadPoolExecutor(len(agents)) as pool:
            replies = list(
                pool.map(
                    lambda a, body: post_json(server.url, "/api/v1/telemetry", body, token=a.token),
                    agents,
                    bodies,
                )
            )
        assert [(r.status, r.json.get("accepted")) for r in replies] == [(200, 1000)] * 5
        ids = ",".join(str(a.agent_id) for a in agents)
        stored = _on_every_node(status, f"SELECT COUNT(*) FROM telemetry WHERE agent_id IN ({ids})")
        assert stored == [5000, 5000, 5000]
    finally:
        server.stop()
        services.close()

    _an_agent_enrolled_on_one_node_is_known_at_once_on_another(status)
    _lease_claims_made_on_two_nodes_at_once_have_one_winner(status)
    _expired_days_dropped_through_one_node_are_gone_on_every_node(status)
