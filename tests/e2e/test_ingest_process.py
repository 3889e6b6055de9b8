"""``argos-ingest`` as a process: start-up checks, SIGTERM with work in flight, --processes."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import psutil
import pytest

from ingest_server.listeners import kernel_spreads_connections
from tests.e2e.conftest import count_rows
from tests.e2e.processes import environment, ingest, listening_url
from tests.e2e.support import (
    TcpProxy,
    enroll_http,
    make_branch,
    post_json,
    request,
    sample,
    wait_until,
)
from tests.e2e.test_ingest_writer import WriteLock

T0 = 1_790_000_000


def test_sigterm_stops_accepting_flushes_in_flight_samples_and_exits_0(ingest_db, ingest_services):
    server = ingest("--database-url", ingest_db, "--port", "0")
    try:
        url = listening_url(server.first_line())
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        branch = make_branch(ingest_services)
        agent = enroll_http(url, branch, ingest_services)
        with ThreadPoolExecutor(1) as pool:
            with WriteLock(ingest_services, ingest_db, agent.agent_id):
                in_flight = pool.submit(
                    post_json,
                    url,
                    "/api/v1/telemetry",
                    {"samples": [sample(T0 + i) for i in range(5)]},
                    token=agent.token,
                )
                assert wait_until(lambda: _metric(url, "argos_writer_flushing_samples") == 5, 10)
                assert not in_flight.done()
                server.proc.terminate()
                assert not in_flight.done()
            reply = in_flight.result(timeout=30)
        code = server.wait(30)
    finally:
        server.kill()
    assert (reply.status, reply.json["accepted"]) == (200, 5)
    assert code == 0, server.report()
    assert count_rows(ingest_services, agent.agent_id) == 5


def test_several_processes_share_the_port_and_all_stop_on_sigterm(ingest_db, ingest_services):
    server = ingest(
        "--database-url", ingest_db, "--port", "0", "--processes", "2", "--agent-rate", "0"
    )
    try:
        url = listening_url(server.first_line())
        assert "2 processes" in server.lines[0]
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        branch = make_branch(ingest_services)
        agent = enroll_http(url, branch, ingest_services)
        with ThreadPoolExecutor(8) as pool:
            replies = list(
                pool.map(
                    lambda i: post_json(
                        url, "/api/v1/telemetry", {"samples": [sample(T0 + i)]}, token=agent.token
                    ),
                    range(40),
                )
            )
        # Whichever worker answers the scrape, it reports the samples of all of them.
        scrapes = {_metric(url, "argos_samples_accepted_total") for _ in range(12)}
        code = server.terminate(30)
    finally:
        server.kill()
    assert {r.status for r in replies} == {200}
    assert code == 0, server.report()
    assert count_rows(ingest_services, agent.agent_id) == 40
    assert scrapes == {40.0}


@pytest.mark.skipif(
    not kernel_spreads_connections(),
    reason="only Linux spreads an SO_REUSEPORT group's connections over its sockets",
)
def test_new_connections_go_to_every_worker_even_while_one_is_busy(ingest_db):
    """Connections that arrive while one worker is busy (held still here) are not all taken
    by the other: with one shared listening socket the idle worker accepted every one of
    them, and keep-alive connections stay where they were accepted, so one worker served
    a whole burst's load (a pool opening, agents starting together) while the other idled."""
    server = ingest("--database-url", ingest_db, "--port", "0", "--processes", "2")
    clients: list[socket.socket] = []
    try:
        url = listening_url(server.first_line())
        port = urlsplit(url).port
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        busy, idle = psutil.Process(server.proc.pid).children()
        busy.suspend()
        try:
            clients = [socket.create_connection(("127.0.0.1", port), 10) for _ in range(16)]
            # Each connection is either the idle worker's by now or waits to be accepted.
            assert wait_until(
                lambda: _held(idle, port) + _waiting_to_be_accepted(port) == len(clients), 10
            ), (_held(idle, port), _waiting_to_be_accepted(port), len(clients))
        finally:
            busy.resume()
        assert wait_until(lambda: _held(idle, port) + _held(busy, port) == len(clients), 10), (
            _held(idle, port),
            _held(busy, port),
            len(clients),
        )
        counts = _held(busy, port), _held(idle, port)
    finally:
        for client in clients:
            client.close()
        server.kill()
    assert min(counts) > 0, counts


def _held(worker: psutil.Process, port: int) -> int:
    """Connections to ``port`` that ``worker`` has accepted."""
    return sum(
        1
        for c in worker.net_connections("tcp4")
        if c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def _waiting_to_be_accepted(port: int) -> int:
    """Connections in the accept queues of the listening sockets on ``port`` (for a listening
    socket, /proc/net/tcp's rx_queue is its accept queue's length)."""
    waiting = 0
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and int(local.split(":")[1], 16) == port:  # 0A: LISTEN
                waiting += int(queues.split(":")[1], 16)
    return waiting


def test_an_agents_rate_limit_holds_in_total_across_processes(ingest_db, ingest_services):
    burst = 5
    server = ingest(
        "--database-url", ingest_db, "--port", "0", "--processes", "2",
        "--agent-rate", "0.001", "--agent-burst", str(burst),
    )  # fmt: skip
    try:
        url = listening_url(server.first_line())
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        agent = enroll_http(url, make_branch(ingest_services), ingest_services)
        with ThreadPoolExecutor(8) as pool:  # a connection each: both workers take some
            statuses = list(
                pool.map(
                    lambda i: (
                        post_json(
                            url,
                            "/api/v1/telemetry",
                            {"samples": [sample(T0 + i)]},
                            token=agent.token,
                        ).status
                    ),
                    range(40),
                )
            )
        code = server.terminate(30)
    finally:
        server.kill()
    assert code == 0, server.report()
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == burst, statuses


def test_mysql_without_secret_key_refuses_to_start_with_one_line():
    env = environment()
    env.pop("ARGOS_SECRET_KEY")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingest_server.main",
            "--database-url",
            "mysql+pymysql://nobody@127.0.0.1:1/none",
            "--port",
            "0",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "ARGOS_SECRET_KEY" in result.stderr


def test_unreachable_database_and_bad_arguments_are_one_line_errors(tmp_path):
    cases = [
        ["--database-url", "mysql+pymysql://root@127.0.0.1:1/none", "--port", "0"],
        ["--database-url", "postgres://x/y", "--port", "0"],
        ["--port", "70000"],
        ["--processes", "-1"],
        ["--bogus"],
        ["--raw-retention", "never"],
        ["--raw-retention", "30d", "--rollup-retention", "7d"],
        ["--housekeeping-sleep-coef", "-1"],
    ]
    for args in cases:
        result = subprocess.run(
            [sys.executable, "-m", "ingest_server.main", *args],
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode != 0, args
        assert result.stderr.strip() and result.stderr.strip().count("\n") == 0, (args, result)
        assert "Traceback" not in result.stderr


def _healthy(url: str) -> bool:
    try:
        return request(url, "GET", "/healthz", timeout=2).status == 200
    except OSError:
        return False


def _metric(url: str, name: str) -> float | None:
    for line in request(url, "GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_workers_stop_when_their_supervisor_is_killed(ingest_db):
    """SIGKILL leaves no SIGTERM to forward: the workers notice and stop by themselves."""
    server = ingest("--database-url", ingest_db, "--port", "0", "--processes", "2")
    workers: list[psutil.Process] = []
    try:
        url = listening_url(server.first_line())
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        workers = psutil.Process(server.proc.pid).children()
        assert len(workers) == 2
        server.proc.kill()
        _, alive = psutil.wait_procs(workers, timeout=30)
    finally:
        server.kill()
        for worker in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                worker.kill()
    assert alive == [], server.report()
    assert not _healthy(url)


def test_a_worker_whose_database_stops_answering_still_stops_and_acknowledges_nothing(
    db_backend, ingest_db, ingest_services
):
    if db_backend != "mysql":
        pytest.skip("stalling the connection needs a network database; SQLite is a local file")
    proxy, proxied = TcpProxy.before_database(ingest_db)
    server = ingest("--database-url", proxied, "--port", "0", "--stop-timeout", "2")
    try:
        url = listening_url(server.first_line())
        server.wait_for(lambda: _healthy(url), 20, "/healthz answers ok")
        agent = enroll_http(url, make_branch(ingest_services), ingest_services)
        assert _post_sample(url, agent.token, T0) == 200  # its credentials are known now
        proxy.stall()
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(_post_sample, url, agent.token, T0 + 1)
            assert wait_until(lambda: _metric(url, "argos_writer_flushing_samples") == 1, 10)
            server.proc.terminate()
            code = server.wait(30)
            answer = in_flight.result(timeout=30)
    finally:
        server.kill()
        proxy.close()
    assert code == 1, server.report()
    assert "the database did not answer within 2 s of stopping" in server.stderr
    assert answer != 200, "a sample the database never got was acknowledged"
    assert count_rows(ingest_services, agent.agent_id) == 1


def _post_sample(url: str, token: str, ts: int) -> int | str:
    try:
        return post_json(url, "/api/v1/telemetry", {"samples": [sample(ts)]}, token=token).status
    except OSError as exc:  # the worker went away without answering: nothing acknowledged
        return type(exc).__name__
