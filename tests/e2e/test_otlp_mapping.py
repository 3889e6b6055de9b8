"""How OTLP host metrics become samples: each field, temporality, timestamps, refusals.

Requests are built with the official message classes and sent to a live server; the stored
rows are read back from the database.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from tests.e2e.support import ROOT
from tests.e2e.test_otlp import agent_row, new_machine, post, stored

T0 = 1_790_000_000
S = 10**9
DELTA, CUMULATIVE = 1, 2
FIELDS = (
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "net_rx_bytes",
    "net_tx_bytes",
    "load_1m",
    "uptime_s",
)


def attrs(values: dict[str, Any]) -> list[dict]:
    def value(v: Any) -> dict:
        if isinstance(v, str):
            return {"stringValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"doubleValue": v}

    return [{"key": k, "value": value(v)} for k, v in values.items()]


def point(ts: float, value: float | int, start: float = T0 - 3600, **labels: Any) -> dict:
    number = {"asInt": str(value)} if isinstance(value, int) else {"asDouble": value}
    return {
        "timeUnixNano": str(int(ts * S)),
        "startTimeUnixNano": str(int(start * S)),
        "attributes": attrs(labels),
        **number,
    }


def gauge(name: str, *points: dict) -> dict:
    return {"name": name, "gauge": {"dataPoints": list(points)}}


def total(name: str, *points: dict, temporality: int = CUMULATIVE, monotonic=True) -> dict:
    return {
        "name": name,
        "sum": {
            "aggregationTemporality": temporality,
            "isMonotonic": monotonic,
            "dataPoints": list(points),
        },
    }


def resource(host: str, *metrics: dict) -> dict:
    return {
        "resource": {"attributes": attrs({"host.name": host})},
        "scopeMetrics": [{"scope": {"name": "hostmetrics"}, "metrics": list(metrics)}],
    }


def send(server, branch, *resources: dict) -> ExportMetricsServiceResponse:
    message = json_format.ParseDict(
        {"resourceMetrics": list(resources)}, ExportMetricsServiceRequest()
    )
    reply = post(server, message.SerializeToString(), branch.key)
    assert reply.status == 200, reply.body
    return ExportMetricsServiceResponse.FromString(reply.body)


def rows(services, host: str) -> list[dict]:
    """Stored samples as ``{ts: {field: value}}`` without the empty fields."""
    return {
        r["ts"]: {k: v for k, v in r.items() if k in FIELDS and v is not None}
        for r in stored(services, host)
    }


# --- CPU ----------------------------------------------------------------------------------


def test_cpu_from_utilization_counts_idle_and_wait_per_cpu(ingest_server, branch, ingest_services):
    host = new_machine()
    utilization = gauge(
        "system.cpu.utilization",
        point(T0, 0.25, cpu="cpu0", state="idle"),
        point(T0, 0.05, cpu="cpu0", state="wait"),
        point(T0, 0.70, cpu="cpu0", state="user"),
        point(T0, 0.75, cpu="cpu1", state="idle"),
        point(T0, 0.25, cpu="cpu1", state="system"),
    )
    send(ingest_server, branch, resource(host, utilization))
    assert rows(ingest_services, host) == {T0: {"cpu_percent": pytest.approx(47.5)}}


def test_cpu_from_utilization_with_current_attribute_names(ingest_server, branch, ingest_services):
    host = new_machine()
    utilization = gauge(
        "system.cpu.utilization",
        point(T0, 0.9, **{"cpu.logical_number": 0, "cpu.mode": "idle"}),
        point(T0, 0.1, **{"cpu.logical_number": 0, "cpu.mode": "user"}),
    )
    send(ingest_server, branch, resource(host, utilization))
    assert rows(ingest_services, host) == {T0: {"cpu_percent": pytest.approx(10.0)}}


def test_cpu_from_cumulative_cpu_time_is_the_busy_share_between_two_exports(
    ingest_server, branch, ingest_services
):
    host = new_machine()

    def times(ts: int, idle: float, user: float, start: float = T0 - 3600) -> dict:
        return total(
            "system.cpu.time",
            point(ts, idle, start, cpu="cpu0", state="idle"),
            point(ts, user, start, cpu="cpu0", state="user"),
        )

    uptime = gauge("system.uptime", point(T0, 100))
    send(ingest_server, branch, resource(host, times(T0, 1000.0, 500.0), uptime))
    send(ingest_server, branch, resource(host, times(T0 + 10, 1006.0, 504.0)))
    send(ingest_server, branch, resource(host, times(T0 + 20, 5.0, 1.0, start=T0 + 15)))
    assert rows(ingest_services, host) == {
        T0: {"uptime_s": 100},  # nothing to compare the first reading with
        T0 + 10: {"cpu_percent": pytest.approx(40.0)},
        # T0 + 20: the counters restarted (new start time): no rate, no sample
    }


def test_cpu_from_delta_cpu_time_needs_no_previous_export(ingest_server, branch, ingest_services):
    host = new_machine()
    times = total(
        "system.cpu.time",
        point(T0, 3.0, T0 - 10, cpu="cpu0", state="idle"),
        point(T0, 1.0, T0 - 10, cpu="cpu0", state="user"),
        temporality=DELTA,
    )
    send(ingest_server, branch, resource(host, times))
    assert rows(ingest_services, host) == {T0: {"cpu_percent": pytest.approx(25.0)}}


def test_utilization_wins_over_cpu_time_in_the_same_second(ingest_server, branch, ingest_services):
    host = new_machine()
    times = total("system.cpu.time", point(T0, 3.0, T0 - 10, state="idle"), temporality=DELTA)
    utilization = gauge("system.cpu.utilization", point(T0, 0.3, state="idle"))
    send(ingest_server, branch, resource(host, times, utilization))
    assert rows(ingest_services, host) == {T0: {"cpu_percent": pytest.approx(70.0)}}


# --- memory, disk -------------------------------------------------------------------------


def test_memory_from_usage_is_used_over_all_states(ingest_server, branch, ingest_services):
    host = new_machine()
    usage = total(
        "system.memory.usage",
        point(T0, 3 * 2**30, state="used"),
        point(T0, 4 * 2**30, state="free"),
        point(T0, 1 * 2**30, state="cached"),
        monotonic=False,
    )
    send(ingest_server, branch, resource(host, usage))
    assert rows(ingest_services, host) == {T0: {"mem_percent": pytest.approx(37.5)}}


def test_disk_is_the_root_filesystem_even_when_another_is_larger(
    ingest_server, branch, ingest_services
):
    host = new_machine()
    usage = total(
        "system.filesystem.usage",
        point(T0, 10 * 2**30, mountpoint="/", device="sda1", state="used"),
        point(T0, 30 * 2**30, mountpoint="/", device="sda1", state="free"),
        point(T0, 1 * 2**30, mountpoint="/", device="sda1", state="reserved"),
        point(T0, 900 * 2**30, mountpoint="/srv", device="sdb1", state="used"),
        point(T0, 100 * 2**30, mountpoint="/srv", device="sdb1", state="free"),
        monotonic=False,
    )
    send(ingest_server, branch, resource(host, usage))
    assert rows(ingest_services, host) == {T0: {"disk_percent": pytest.approx(25.0)}}


def test_without_a_root_filesystem_disk_is_the_largest_one(ingest_server, branch, ingest_services):
    host = new_machine()
    usage = total(
        "system.filesystem.usage",
        point(T0, 1, mountpoint="/boot", state="used"),
        point(T0, 1, mountpoint="/boot", state="free"),
        point(T0, 600, mountpoint="/srv", state="used"),
        point(T0, 400, mountpoint="/srv", state="free"),
        monotonic=False,
    )
    utilization = gauge(
        "system.filesystem.utilization",
        point(T0, 0.5, mountpoint="/boot"),
        point(T0, 0.61, mountpoint="/srv"),
    )
    send(ingest_server, branch, resource(host, usage, utilization))
    assert rows(ingest_services, host) == {T0: {"disk_percent": pytest.approx(61.0)}}


# --- network ------------------------------------------------------------------------------


def test_network_sums_cumulative_counters_over_non_loopback_devices(
    ingest_server, branch, ingest_services
):
    host = new_machine()
    io = total(
        "system.network.io",
        point(T0, 1000, device="eth0", direction="receive"),
        point(T0, 2000, device="eth0", direction="transmit"),
        point(T0, 300, device="wlan0", direction="receive"),
        point(T0, 40, device="wlan0", direction="transmit"),
        point(T0, 99999, device="lo", direction="receive"),
        point(T0, 99999, device="lo0", direction="transmit"),
        point(T0, 99999, device="Loopback Pseudo-Interface 1", direction="transmit"),
    )
    send(ingest_server, branch, resource(host, io))
    assert rows(ingest_services, host) == {T0: {"net_rx_bytes": 1300, "net_tx_bytes": 2040}}


def test_delta_network_bytes_become_a_running_counter_and_a_resend_counts_once(
    ingest_server, branch, ingest_services
):
    host = new_machine()

    def io(ts: int, rx: int, tx: int) -> dict:
        return total(
            "system.network.io",
            point(
                ts,
                rx,
                ts - 10,
                **{"network.interface.name": "eth0", "network.io.direction": "receive"},
            ),
            point(
                ts,
                tx,
                ts - 10,
                **{"network.interface.name": "eth0", "network.io.direction": "transmit"},
            ),
            temporality=DELTA,
        )

    send(ingest_server, branch, resource(host, io(T0, 100, 10)))
    send(ingest_server, branch, resource(host, io(T0 + 10, 50, 5)))
    send(ingest_server, branch, resource(host, io(T0 + 10, 50, 5)))  # the exporter retried
    assert rows(ingest_services, host) == {
        T0: {"net_rx_bytes": 100, "net_tx_bytes": 10},
        T0 + 10: {"net_rx_bytes": 150, "net_tx_bytes": 15},
    }


# --- load, uptime, timestamps -------------------------------------------------------------


def test_load_and_uptime_and_one_sample_per_second(ingest_server, branch, ingest_services):
    host = new_machine()
    load = gauge("system.cpu.load_average.1m", point(T0 + 0.1, 0.42), point(T0 + 60.9, 1.5))
    uptime = total("system.uptime", point(T0 + 0.8, 86_400), point(T0 + 60.2, 86_460))
    memory = gauge("system.memory.utilization", point(T0 + 0.5, 0.5, state="used"))
    send(ingest_server, branch, resource(host, load, uptime, memory))
    assert rows(ingest_services, host) == {
        T0: {"load_1m": pytest.approx(0.42), "uptime_s": 86_400, "mem_percent": 50.0},
        T0 + 60: {"load_1m": pytest.approx(1.5), "uptime_s": 86_460},
    }


# --- what is not stored -------------------------------------------------------------------


def test_invalid_points_are_counted_in_partial_success_and_the_rest_is_stored(
    ingest_server, branch, ingest_services
):
    host = new_machine()
    metrics = [
        gauge("system.memory.utilization", point(T0, 5.0, state="used")),  # 500 %
        gauge("system.cpu.load_average.1m", point(T0, "NaN"), point(T0, 0.5)),
        gauge("system.uptime", point(time.time() + 86_400, 10)),  # a day ahead
        total("system.cpu.utilization", point(T0, 0.5), temporality=DELTA),
        {
            "name": "system.filesystem.utilization",
            "histogram": {"aggregationTemporality": 2, "dataPoints": [{"count": "1"}]},
        },
        gauge("process.memory.usage", point(T0, 123), point(T0, 456)),
    ]
    response = send(ingest_server, branch, resource(host, *metrics))
    partial = response.partial_success
    assert partial.rejected_data_points == 7
    for words in ("process.memory.usage", "a fraction above 1", "non-finite", "ahead", "delta"):
        assert words in partial.error_message
    assert rows(ingest_services, host) == {T0: {"load_1m": pytest.approx(0.5)}}


def test_infinite_values_are_refused_as_non_finite_and_the_rest_is_stored(
    ingest_server, branch, ingest_services
):
    """Infinity is refused like NaN for every field, counters and levels alike (it used to
    pass the range check of the fields without an upper bound: a 500 for a counter)."""
    host = new_machine()
    metrics = [
        gauge("system.uptime", point(T0, "Infinity"), point(T0 + 1, 10)),
        total("system.network.io", point(T0, "Infinity", device="eth0", direction="receive")),
        gauge("system.cpu.load_average.1m", point(T0, "Infinity")),
    ]
    response = send(ingest_server, branch, resource(host, *metrics))
    partial = response.partial_success
    assert partial.rejected_data_points == 3
    assert "system.uptime: a negative or non-finite value" in partial.error_message
    assert rows(ingest_services, host) == {T0 + 1: {"uptime_s": 10}}


def test_each_resource_is_its_own_agent_and_a_host_sent_twice_is_merged(
    ingest_server, branch, ingest_services
):
    web, db = new_machine(), new_machine()
    send(
        ingest_server,
        branch,
        resource(web, gauge("system.cpu.load_average.1m", point(T0, 1.0))),
        resource(db, gauge("system.cpu.load_average.1m", point(T0, 2.0))),
        resource(web, gauge("system.uptime", point(T0, 50))),
    )
    assert rows(ingest_services, web) == {T0: {"load_1m": 1.0, "uptime_s": 50}}
    assert rows(ingest_services, db) == {T0: {"load_1m": 2.0}}
    assert agent_row(ingest_services, web)["uuid"] != agent_row(ingest_services, db)["uuid"]


def test_a_revoked_host_beside_a_good_one_is_counted_as_rejected(
    ingest_server, branch, ingest_services
):
    good, revoked = new_machine(), new_machine()
    send(ingest_server, branch, resource(revoked, gauge("system.uptime", point(T0, 1))))
    ingest_services.agents.revoke_agent(ROOT, agent_row(ingest_services, revoked)["uuid"])
    response = send(
        ingest_server,
        branch,
        resource(good, gauge("system.uptime", point(T0 + 10, 5))),
        resource(revoked, gauge("system.uptime", point(T0 + 10, 11), point(T0 + 20, 21))),
    )
    assert response.partial_success.rejected_data_points == 2
    assert "revoked" in response.partial_success.error_message
    assert rows(ingest_services, good) == {T0 + 10: {"uptime_s": 5}}
    assert rows(ingest_services, revoked) == {T0: {"uptime_s": 1}}


def test_a_changed_inventory_re_enrolls_the_same_agent(ingest_server, branch, ingest_services):
    host = new_machine()
    first = resource(host, gauge("system.uptime", point(T0, 1)))
    send(ingest_server, branch, first)
    uuid = agent_row(ingest_services, host)["uuid"]
    upgraded = resource(host, gauge("system.uptime", point(T0 + 10, 11)))
    upgraded["resource"]["attributes"] += attrs({"os.type": "linux", "os.version": "6.12"})
    send(ingest_server, branch, upgraded)
    summary = ingest_services.agents.get_agent(ROOT, uuid).summary
    assert summary.os == "linux 6.12"
    actions = [e.action for e in ingest_services.audit.list_entries(ROOT, text=uuid).items]
    assert sorted(actions) == ["agent.enroll", "agent.re_enroll"]
