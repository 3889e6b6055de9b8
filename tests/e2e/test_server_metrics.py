"""``/metrics`` as Prometheus and an operator read it: every series from the first scrape,
latency by route, process and build information, HEAD probes, and ``promtool`` agrees."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

from ingest_server.metrics import ROUTE_STATUSES
from tests.e2e.processes import ingest, listening_url
from tests.e2e.support import (
    enroll,
    enroll_http,
    make_branch,
    metric,
    post_json,
    request,
    sample,
    scrape,
    wait_until,
)

T0 = 1_790_000_000
TELEMETRY = "/api/v1/telemetry"


def promtool(text: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: `./scripts/ensure-system-deps --test` installs it"
    return subprocess.run(
        [tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )


def test_every_route_and_status_is_a_series_before_its_first_request(ingest_server):
    first = scrape(ingest_server.url)
    for route, statuses in ROUTE_STATUSES.items():
        for status in statuses:
            counted = metric(first, "argos_http_requests_total", route=route, status=str(status))
            assert counted == 0, (route, status)
        assert metric(first, "argos_http_request_duration_seconds_count", route=route) == 0


def test_latency_by_route_process_and_build_information(ingest_server, ingest_services):
    branch = make_branch(ingest_services)
    agent = enroll(ingest_server, branch, ingest_services)
    for i in range(3):
        post_json(ingest_server.url, TELEMETRY, {"samples": [sample(T0 + i)]}, token=agent.token)
    request(ingest_server.url, "GET", "/nope")
    samples = scrape(ingest_server.url)
    assert metric(samples, "argos_http_request_duration_seconds_count", route="telemetry") == 3
    assert metric(samples, "argos_http_request_duration_seconds_count", route="enroll") == 1
    assert metric(samples, "argos_http_request_duration_seconds_count", route="other") == 1
    assert metric(samples, "argos_http_requests_total", route="other", status="404") == 1
    assert metric(samples, "argos_http_request_duration_seconds_sum", route="telemetry") > 0
    assert metric(samples, "process_resident_memory_bytes") > 0
    assert metric(samples, "process_cpu_seconds_total") > 0
    build = samples["argos_build_info"]
    assert len(build) == 1 and build[0][1] == 1
    assert build[0][0]["version"] and build[0][0]["python"]


def test_head_probes_answer_without_a_body(ingest_server):
    for path in ("/healthz", "/metrics"):
        reply = request(ingest_server.url, "HEAD", path)
        assert (reply.status, reply.body) == (200, b""), path


def test_promtool_accepts_the_exposition(ingest_server, ingest_services):
    branch = make_branch(ingest_services)
    agent = enroll(ingest_server, branch, ingest_services)
    post_json(ingest_server.url, TELEMETRY, {"samples": [sample(T0)]}, token=agent.token)
    result = promtool(request(ingest_server.url, "GET", "/metrics").body.decode())
    assert result.returncode == 0, result.stdout + result.stderr


def test_several_processes_report_every_worker_and_promtool_accepts_it(ingest_db, ingest_services):
    server = ingest(
        "--database-url", ingest_db, "--port", "0", "--processes", "2", "--agent-rate", "0"
    )
    try:
        url = listening_url(server.first_line())
        server.wait_for(lambda: request(url, "GET", "/healthz").status == 200, 20, "healthz ok")
        branch = make_branch(ingest_services)
        agent = enroll_http(url, branch, ingest_services)
        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda i: post_json(
                        url, TELEMETRY, {"samples": [sample(T0 + i)]}, token=agent.token
                    ),
                    range(20),
                )
            )
        # Both workers have answered something once both have written their live gauges.
        assert wait_until(lambda: len(_pids(scrape(url))) == 2, 20), server.report()
        text = request(url, "GET", "/metrics").body.decode()
        samples = scrape(url)
        code = server.terminate(30)
    finally:
        server.kill()
    assert code == 0, server.report()
    assert metric(samples, "argos_http_request_duration_seconds_count", route="telemetry") == 20
    assert len(samples["argos_build_info"]) == 1
    result = promtool(text)
    assert result.returncode == 0, result.stdout + result.stderr


def _pids(samples: dict[str, list]) -> set[str]:
    return {labels["pid"] for labels, _ in samples.get("process_resident_memory_bytes", [])}
