"""POST /v1/metrics driven by the real OpenTelemetry Python SDK and by hand-made OTLP requests
against a live server: what is stored, the answers, identity and refusals."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from google.protobuf import json_format
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.common.http import Compression
from opentelemetry.exporter.otlp.json.http.metric_exporter import (
    OTLPMetricExporter as JsonMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.instrumentation.system_metrics import SystemMetricsInstrumentor
from opentelemetry.metrics import Observation
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.version import __version__ as sdk_version
from sqlalchemy import event, text

from argos_core.bootstrap import Services
from ingest_server.context import IngestConfig
from tests.e2e.support import (
    ROOT,
    Branch,
    ServerThread,
    TcpProxy,
    make_branch,
    request,
    wait_until,
)

PATH = "/v1/metrics"
PROTOBUF = "application/x-protobuf"
T0 = 1_790_000_000


# --- helpers -----------------------------------------------------------------------------


def host_attributes(machine: str) -> dict:
    return {
        "host.id": machine,
        "host.name": f"otel-{machine[:8]}",
        "os.description": "Debian GNU/Linux 13 (trixie)",
        "host.arch": "amd64",
        "host.ip": ["10.0.0.5", "fe80::1"],
    }


def export_once(exporter: MetricExporter, machine: str) -> tuple[MetricsData, MetricExportResult]:
    """One collection of the system-metrics instrumentation plus the host gauges it does
    not have (load, uptime, filesystem), exported by ``exporter``; what was sent and how
    the export went."""
    reader = InMemoryMetricReader(
        preferred_temporality=exporter._preferred_temporality,
        preferred_aggregation=exporter._preferred_aggregation,
    )
    provider = MeterProvider(
        metric_readers=[reader], resource=Resource.create(host_attributes(machine))
    )
    meter = provider.get_meter("argos-tests")

    def gauge(name: str, *observations: Observation) -> None:
        meter.create_observable_gauge(name, callbacks=[lambda _o: list(observations)])

    gauge("system.cpu.load_average.1m", Observation(0.42))
    gauge("system.uptime", Observation(86_400))
    gauge(
        "system.filesystem.utilization",
        Observation(0.2, {"mountpoint": "/data", "device": "/dev/sdb1"}),
        Observation(0.713, {"mountpoint": "/", "device": "/dev/sda1"}),
    )
    instrumentor = SystemMetricsInstrumentor()
    instrumentor.instrument(meter_provider=provider)
    try:
        data = reader.get_metrics_data()
        return data, exporter.export(data)
    finally:
        instrumentor.uninstrument()
        provider.shutdown()
        exporter.shutdown()


def expected_sample(data: MetricsData) -> dict:
    """What the sent metrics should become, worked out independently of the server."""
    points = {
        metric.name: list(metric.data.data_points)
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    seconds = {p.time_unix_nano // 10**9 for ps in points.values() for p in ps}
    assert len(seconds) == 1, "one collection, one timestamp"
    cpu = points["system.cpu.utilization"]
    ncpu = len({p.attributes["cpu"] for p in cpu})
    idle = sum(p.value for p in cpu if p.attributes["state"] == "idle")
    net = points["system.network.io"]
    expected = {
        "ts": seconds.pop(),
        "cpu_percent": min(100.0, max(0.0, 100 * (1 - idle / ncpu))),
        "mem_percent": 100
        * next(
            p.value for p in points["system.memory.utilization"] if p.attributes["state"] == "used"
        ),
        "disk_percent": 71.3,
        "net_rx_bytes": sum(
            p.value
            for p in net
            if p.attributes["direction"] == "receive" and p.attributes["device"] != "lo"
        ),
        "net_tx_bytes": sum(
            p.value
            for p in net
            if p.attributes["direction"] == "transmit" and p.attributes["device"] != "lo"
        ),
        "load_1m": 0.42,
        "uptime_s": 86_400,
    }
    if not any(p.value for p in cpu):  # psutil's first reading: nothing to compare with
        expected["cpu_percent"] = None
    return expected


def assert_stored_as(rows: list[dict], expected: dict) -> None:
    """One row: timestamps and counters exact, percentages and load to the precision of the
    database's FLOAT columns."""
    assert len(rows) == 1
    row = rows[0]
    assert row.keys() == expected.keys()
    for name, value in expected.items():
        if isinstance(value, float):
            assert row[name] == pytest.approx(value, rel=1e-5), name
        else:
            assert row[name] == value, name


def stored(services: Services, machine: str) -> list[dict]:
    with services.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.ts, t.cpu_percent, t.mem_percent, t.disk_percent, t.net_rx_bytes,"
                " t.net_tx_bytes, t.load_1m, t.uptime_s FROM telemetry t"
                " JOIN agents a ON a.id = t.agent_id WHERE a.machine_id = :m ORDER BY t.ts"
            ),
            {"m": machine},
        )
        return [dict(r._mapping) for r in rows]


def agent_row(services: Services, machine: str) -> dict | None:
    with services.engine.connect() as conn:
        row = conn.execute(
            text("SELECT uuid, hostname, source FROM agents WHERE machine_id = :m"), {"m": machine}
        ).first()
        return dict(row._mapping) if row else None


def gauge_request(
    machine: str | None, ts: int = T0, value: float = 0.5
) -> ExportMetricsServiceRequest:
    """One resource with one ``system.memory.utilization`` point and an unmapped counter."""
    resource = [{"key": "host.name", "value": {"stringValue": machine}}] if machine else []
    message = {
        "resourceMetrics": [
            {
                "resource": {"attributes": resource},
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "system.memory.utilization",
                                "gauge": {
                                    "dataPoints": [
                                        {
                                            "timeUnixNano": str(ts * 10**9),
                                            "asDouble": value,
                                            "attributes": [
                                                {"key": "state", "value": {"stringValue": "used"}}
                                            ],
                                        }
                                    ]
                                },
                            },
                            {
                                "name": "http.server.request.count",
                                "sum": {
                                    "aggregationTemporality": 2,
                                    "isMonotonic": True,
                                    "dataPoints": [
                                        {"timeUnixNano": str(ts * 10**9), "asInt": "7"},
                                        {"timeUnixNano": str(ts * 10**9), "asInt": "9"},
                                    ],
                                },
                            },
                        ]
                    }
                ],
            }
        ]
    }
    return json_format.ParseDict(message, ExportMetricsServiceRequest())


def post(
    server: ServerThread, body: bytes, key: str | None, content_type: str = PROTOBUF, **headers
):
    all_headers = {"Content-Type": content_type, **headers}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    return request(server.url, "POST", PATH, body, all_headers)


def new_machine() -> str:
    return f"host-{uuid.uuid4().hex}"


# --- the real SDK -------------------------------------------------------------------------


def test_python_sdk_system_metrics_over_protobuf_are_stored_as_sent(
    ingest_server, branch, ingest_services
):
    machine = new_machine()
    exporter = OTLPMetricExporter(
        endpoint=ingest_server.url + PATH, headers={"Authorization": f"Bearer {branch.key}"}
    )
    sent, result = export_once(exporter, machine)
    assert result is MetricExportResult.SUCCESS
    assert_stored_as(stored(ingest_services, machine), expected_sample(sent))


def test_python_sdk_json_exporter_with_gzip_is_stored_as_sent(
    ingest_server, branch, ingest_services
):
    machine = new_machine()
    exporter = JsonMetricExporter(
        endpoint=ingest_server.url + PATH,
        headers={"Authorization": f"Bearer {branch.key}"},
        compression=Compression.GZIP,
    )
    sent, result = export_once(exporter, machine)
    assert result is MetricExportResult.SUCCESS
    assert_stored_as(stored(ingest_services, machine), expected_sample(sent))


def test_a_resource_becomes_an_opentelemetry_agent_of_the_keys_branch_with_its_inventory(
    ingest_server, branch, ingest_services
):
    machine = new_machine()
    exporter = OTLPMetricExporter(
        endpoint=ingest_server.url + PATH, headers={"Authorization": f"Bearer {branch.key}"}
    )
    export_once(exporter, machine)
    detail = ingest_services.agents.get_agent(ROOT, agent_row(ingest_services, machine)["uuid"])
    summary = detail.summary
    assert summary.source == "OpenTelemetry"
    assert summary.branch_org_id == branch.org_id
    assert summary.hostname == f"otel-{machine[:8]}"
    assert summary.os == "Debian GNU/Linux 13 (trixie) (amd64)"
    assert summary.ip_addresses == ["10.0.0.5", "fe80::1"]
    assert summary.agent_version == f"opentelemetry-python {sdk_version}"
    assert summary.status.value == "online"
    assert detail.machine_id == machine
    assert detail.enrollment_key_id == branch.key_id
    enrolments = ingest_services.audit.list_entries(
        ROOT, action="agent.enroll", text=summary.uuid
    ).items
    assert len(enrolments) == 1
    assert enrolments[0].source.startswith("otlp:")
    keys = ingest_services.enrollment.list_keys(ROOT, branch.org_id)
    assert keys[0].use_count == 1


def test_an_agent_enrolled_by_the_argos_agent_keeps_its_source(
    ingest_server, agent, ingest_services
):
    assert ingest_services.agents.get_agent(ROOT, agent.agent_uuid).summary.source == "Argos agent"


# --- answers ------------------------------------------------------------------------------


def test_unmapped_metrics_are_counted_in_partial_success_and_the_answer_is_protobuf(
    ingest_server, branch, ingest_services
):
    machine = new_machine()
    reply = post(ingest_server, gauge_request(machine).SerializeToString(), branch.key)
    assert reply.status == 200
    assert reply.headers["content-type"] == PROTOBUF
    response = ExportMetricsServiceResponse.FromString(reply.body)
    assert response.partial_success.rejected_data_points == 2
    assert "http.server.request.count" in response.partial_success.error_message
    assert stored(ingest_services, machine) == [
        {
            "ts": T0,
            "cpu_percent": None,
            "mem_percent": 50.0,
            "disk_percent": None,
            "net_rx_bytes": None,
            "net_tx_bytes": None,
            "load_1m": None,
            "uptime_s": None,
        }
    ]


def test_a_json_request_gets_a_json_answer_with_int64_as_strings(ingest_server, branch):
    body = json_format.MessageToJson(gauge_request(new_machine())).encode()
    reply = post(ingest_server, body, branch.key, "application/json")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    partial = reply.json["partialSuccess"]
    assert partial["rejectedDataPoints"] == "2"
    assert "http.server.request.count" in partial["errorMessage"]


def test_a_fully_stored_export_leaves_partial_success_unset(ingest_server, branch):
    message = gauge_request(new_machine())
    del message.resource_metrics[0].scope_metrics[0].metrics[1]
    reply = post(ingest_server, message.SerializeToString(), branch.key)
    assert reply.status == 200
    assert not ExportMetricsServiceResponse.FromString(reply.body).HasField("partial_success")
    json_reply = post(
        ingest_server, json_format.MessageToJson(message).encode(), branch.key, "application/json"
    )
    assert json_reply.status == 200
    assert json_reply.json == {}


def test_a_resent_export_is_stored_once_and_still_succeeds(ingest_server, branch, ingest_services):
    machine = new_machine()
    body = gauge_request(machine).SerializeToString()
    first, again = post(ingest_server, body, branch.key), post(ingest_server, body, branch.key)
    assert first.status == again.status == 200
    assert first.body == again.body
    assert len(stored(ingest_services, machine)) == 1


def test_gzip_bodies_are_accepted(ingest_server, branch, ingest_services):
    machine = new_machine()
    body = gzip.compress(gauge_request(machine).SerializeToString())
    reply = post(ingest_server, body, branch.key, **{"Content-Encoding": "gzip"})
    assert reply.status == 200
    assert len(stored(ingest_services, machine)) == 1


def test_an_empty_export_succeeds(ingest_server, branch):
    reply = post(ingest_server, b"", branch.key)
    assert reply.status == 200
    assert reply.body == b""


# --- refusals -----------------------------------------------------------------------------


def status_of(reply) -> Status:
    assert reply.headers["content-type"] == PROTOBUF
    return Status.FromString(reply.body)


def test_malformed_protobuf_is_a_400_with_a_status_and_nothing_is_stored(
    ingest_server, branch, ingest_services
):
    reply = post(ingest_server, b"\x0a\xff\xff\xff\xff\x0f", branch.key)
    assert reply.status == 400
    status = status_of(reply)
    assert status.code == 3
    assert "ExportMetricsServiceRequest" in status.message


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"resourceMetrics": {"resource": {}}}',
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": 5}]}]}]}',
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "system.uptime",'
        b' "gauge": {"dataPoints": [{"timeUnixNano": true, "asDouble": 1}]}}]}]}]}',
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "system.uptime",'
        b' "gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": "many"}]}}]}]}]}',
        b"\xff\xfe",
    ],
    ids=["not-json", "list-expected", "name-not-string", "bool-time", "string-value", "not-utf8"],
)
def test_wrong_json_types_are_a_400_in_the_argos_error_shape(ingest_server, branch, body):
    reply = post(ingest_server, body, branch.key, "application/json")
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    error = reply.json
    assert error["code"] == 3
    assert error["error"] == "bad_request"
    assert error["message"]
    assert error["details"] == []


def test_a_resource_without_host_id_or_name_is_a_400_and_creates_no_agent(
    ingest_server, branch, ingest_services
):
    reply = post(ingest_server, gauge_request(None).SerializeToString(), branch.key)
    assert reply.status == 400
    assert "host.id or host.name" in status_of(reply).message
    with ingest_services.engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM agents a JOIN branches b ON b.id = a.branch_id"
                    " WHERE b.org_id = :b"
                ),
                {"b": branch.org_id},
            ).scalar_one()
            == 0
        )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic abc", "Bearer not-a-key", "Bearer " + "x" * 5000],
    ids=["missing", "empty", "basic", "unknown", "huge"],
)
def test_requests_without_a_valid_key_are_refused_with_401(ingest_server, authorization):
    headers = {"Content-Type": PROTOBUF}
    if authorization:
        headers["Authorization"] = authorization
    reply = request(
        ingest_server.url, "POST", PATH, gauge_request(new_machine()).SerializeToString(), headers
    )
    assert reply.status == 401
    assert status_of(reply).code == 16


def test_unsupported_media_types_and_encodings_are_a_415(ingest_server, branch):
    body = gauge_request(new_machine()).SerializeToString()
    assert post(ingest_server, body, branch.key, "text/plain").status == 415
    reply = post(ingest_server, body, branch.key, **{"Content-Encoding": "br"})
    assert reply.status == 415


def test_a_corrupt_gzip_body_is_a_400(ingest_server, branch):
    reply = post(ingest_server, b"\x1f\x8b not gzip", branch.key, **{"Content-Encoding": "gzip"})
    assert reply.status == 400


def test_other_methods_are_refused(ingest_server):
    reply = request(ingest_server.url, "GET", PATH)
    assert reply.status == 405
    assert reply.json["error"] == "method_not_allowed"


def test_a_revoked_agent_is_refused_at_once_even_while_cached(
    ingest_server, branch, ingest_services
):
    machine = new_machine()
    assert post(ingest_server, gauge_request(machine).SerializeToString(), branch.key).status == 200
    ingest_services.agents.revoke_agent(ROOT, agent_row(ingest_services, machine)["uuid"])
    reply = post(ingest_server, gauge_request(machine, T0 + 10).SerializeToString(), branch.key)
    assert reply.status == 401
    assert len(stored(ingest_services, machine)) == 1


# --- a server with small limits -----------------------------------------------------------

STRICT = IngestConfig(
    agent_rate=0.001,
    agent_burst=1,
    enroll_failure_rate=0,  # the refused keys here are not a burst to throttle
    otlp_key_ttl_s=0,
    max_body_bytes=64 * 1024,
    health_retry_interval_s=0.2,
)


@pytest.fixture(scope="module")
def strict_server(ingest_db: str) -> Iterator[ServerThread]:
    server = ServerThread(ingest_db, STRICT).start()
    yield server
    server.stop()


@pytest.fixture
def strict_branch(ingest_services: Services) -> Branch:
    return make_branch(ingest_services)


def test_a_revoked_key_is_refused(strict_server, strict_branch, ingest_services):
    first = post(strict_server, gauge_request(new_machine()).SerializeToString(), strict_branch.key)
    assert first.status == 200
    ingest_services.enrollment.revoke_key(ROOT, strict_branch.key_id)
    reply = post(strict_server, gauge_request(new_machine()).SerializeToString(), strict_branch.key)
    assert reply.status == 401


def test_an_expired_key_is_refused(strict_server, ingest_services):
    branch = make_branch(ingest_services, expires_in=timedelta(microseconds=1))
    reply = post(strict_server, gauge_request(new_machine()).SerializeToString(), branch.key)
    assert reply.status == 401


def test_a_body_too_large_once_decompressed_is_a_413(strict_server, strict_branch):
    message = gauge_request(new_machine())
    message.resource_metrics[0].resource.attributes.add(key="padding").value.string_value = (
        "x" * 100_000
    )
    body = gzip.compress(message.SerializeToString())
    assert len(body) < STRICT.max_body_bytes
    reply = post(strict_server, body, strict_branch.key, **{"Content-Encoding": "gzip"})
    assert reply.status == 413
    assert status_of(reply).message.startswith("The decompressed body may be at most")


def test_a_host_over_its_rate_gets_a_503_with_retry_after(strict_server, strict_branch):
    machine = new_machine()
    first = post(strict_server, gauge_request(machine).SerializeToString(), strict_branch.key)
    assert first.status == 200
    reply = post(
        strict_server, gauge_request(machine, T0 + 1).SerializeToString(), strict_branch.key
    )
    assert reply.status == 503
    assert int(reply.headers["retry-after"]) >= 1
    assert status_of(reply).code == 14


def test_identity_lookups_are_cached_between_exports(ingest_server, branch, ingest_services):
    engine = ingest_server.runtime.context.services.engine
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    machine = new_machine()
    lookups = []
    event.listen(engine, "before_cursor_execute", record)
    try:
        for i in range(3):
            statements.clear()
            body = gauge_request(machine, T0 + 10 * i).SerializeToString()
            assert post(ingest_server, body, branch.key).status == 200
            lookups.append(
                [
                    s
                    for s in statements
                    if s.lstrip().upper().startswith("SELECT")
                    and ("enrollment_keys" in s or "FROM agents" in s)
                ]
            )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert lookups[0], "the first export looks the key and the host up"
    assert lookups[1:] == [[], []]
    assert len(stored(ingest_services, machine)) == 3


def test_the_error_body_of_a_json_request_is_json(ingest_server):
    reply = request(ingest_server.url, "POST", PATH, b"{}", {"Content-Type": "application/json"})
    assert reply.status == 401
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body)["error"] == "unauthorized"


def test_a_full_writer_queue_answers_503_with_retry_after(ingest_db, ingest_services):
    server = ServerThread(ingest_db, IngestConfig(agent_rate=0, max_pending_rows=0)).start()
    try:
        branch = make_branch(ingest_services)
        machine = new_machine()
        reply = post(server, gauge_request(machine).SerializeToString(), branch.key)
    finally:
        server.stop()
    assert reply.status == 503
    assert int(reply.headers["retry-after"]) >= 1
    assert status_of(reply).code == 14
    assert stored(ingest_services, machine) == []


def test_a_database_outage_answers_503_with_retry_after_and_intake_resumes(
    db_backend, ingest_db, ingest_services
):
    if db_backend != "mysql":
        pytest.skip("cutting the connection needs a network database; SQLite is a local file")
    proxy, proxied = TcpProxy.before_database(ingest_db)
    server = ServerThread(proxied, IngestConfig(agent_rate=0, health_retry_interval_s=0.2)).start()
    known, unknown = new_machine(), new_machine()
    try:
        branch = make_branch(ingest_services)
        assert post(server, gauge_request(known).SerializeToString(), branch.key).status == 200
        proxy.cut()
        outage = [
            post(server, gauge_request(known, T0 + 10).SerializeToString(), branch.key),
            post(server, gauge_request(unknown, T0 + 10).SerializeToString(), branch.key),
        ]
        assert [r.status for r in outage] == [503, 503]
        assert all(int(r.headers["retry-after"]) >= 1 for r in outage)
        assert {status_of(r).code for r in outage} == {14}
        proxy.restore()
        assert wait_until(lambda: request(server.url, "GET", "/healthz").status == 200, 10)
        for machine in (known, unknown):
            body = gauge_request(machine, T0 + 20).SerializeToString()
            assert post(server, body, branch.key).status == 200
    finally:
        server.stop()
        proxy.close()
    assert [r["ts"] for r in stored(ingest_services, known)] == [T0, T0 + 20]
    assert [r["ts"] for r in stored(ingest_services, unknown)] == [T0 + 20]
