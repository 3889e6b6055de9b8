"""Prometheus metrics of the ingest server.

One process: each app keeps its own registry. With ``--processes N`` the supervisor calls
:func:`share_between_processes` before forking, so every worker writes its values to files
in one directory and any worker's ``/metrics`` answers for all of them (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from importlib.metadata import version

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Every route a request is counted under and the statuses it can answer, so that each
# counter exists (at 0) from the first scrape and ``increase()`` sees its first requests.
ROUTE_STATUSES: dict[str, tuple[int, ...]] = {
    "enroll": (200, 201, 400, 401, 405, 413, 415, 429, 500, 503),
    "telemetry": (200, 400, 401, 403, 405, 413, 415, 429, 500, 503),
    "otlp": (200, 400, 401, 403, 405, 413, 415, 429, 500, 503),
    "console": (200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503),
    "healthz": (200, 405, 503),
    "metrics": (200, 405),
    "other": (404, 405),
}
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def share_between_processes(directory: str) -> None:
    """Make metrics created from now on (in this process and its forks) live in files."""
    os.environ[MULTIPROC_ENV] = directory
    values.ValueClass = values.MultiProcessValue()


def forget_process(pid: int) -> None:
    """Drop a finished worker's live gauges (its counters keep counting in the totals)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)


FLUSH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}
        r = self.registry
        self.samples_accepted = Counter(
            "argos_samples_accepted", "Samples committed to the database.", registry=r
        )
        self.samples_duplicate = Counter(
            "argos_samples_duplicate", "Samples already stored for (agent, ts).", registry=r
        )
        self.samples_rejected = Counter(
            "argos_samples_rejected", "Samples in batches refused as invalid.", registry=r
        )
        self.requests = Counter(
            "argos_http_requests",
            "HTTP requests by route and status.",
            ["route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "argos_http_request_duration_seconds",
            "Time from a request's headers to its answer, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        for route, statuses in ROUTE_STATUSES.items():
            self._latency_children[route] = self.request_seconds.labels(route)
            for status in statuses:
                self._request_children[route, status] = self.requests.labels(route, str(status))
        Gauge(
            "argos_build_info",
            "Always 1; the labels say which Argos and Python this process runs.",
            ["version", "python"],
            registry=r,
            multiprocess_mode="max",
        ).labels(version("argos"), platform.python_version()).set(1)
        self.queue_samples = Gauge(
            "argos_writer_queue_samples",
            "Samples waiting for the writer.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.flushing_samples = Gauge(
            "argos_writer_flushing_samples",
            "Samples in the transaction being written.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.flush_seconds = Histogram(
            "argos_writer_flush_seconds",
            "Time to write and commit one batch.",
            buckets=FLUSH_BUCKETS,
            registry=r,
        )
        self.flush_rows = Histogram(
            "argos_writer_flush_rows",
            "Samples per committed batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
            registry=r,
        )
        self.flush_failures = Counter(
            "argos_writer_flush_failures", "Batches that could not be committed.", registry=r
        )
        self.database_up = Gauge(
            "argos_database_up",
            "1 when the database answers, else 0.",
            registry=r,
            multiprocess_mode="livemin",
        )

    def count_request(self, route: str, status: int, seconds: float) -> None:
        key = (route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(route, str(status))
        child.inc()
        latency = self._latency_children.get(route)
        if latency is None:
            latency = self._latency_children[route] = self.request_seconds.labels(route)
        latency.observe(seconds)

    def exposition(self) -> bytes:
        directory = os.environ.get(MULTIPROC_ENV)
        if not directory:
            everyone = CollectorRegistry()
            for collector in (self.registry, PROCESS_COLLECTOR, PLATFORM_COLLECTOR):
                everyone.register(collector)
            return generate_latest(everyone)
        everyone = CollectorRegistry()
        multiprocess.MultiProcessCollector(everyone, path=directory)
        everyone.register(_WorkerProcesses(directory))
        everyone.register(PLATFORM_COLLECTOR)
        return generate_latest(everyone)


class _WorkerProcesses(Collector):
    """``process_*`` of every live worker, one series per ``pid`` (prometheus-client's own
    process collector reads one process; the multiprocess mode has none)."""

    def __init__(self, directory: str) -> None:
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for pid in _live_workers(self._directory):
            for family in ProcessCollector(pid=lambda pid=pid: pid, registry=None).collect():
                merged = families.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    merged.add_sample(sample.name, {**sample.labels, "pid": str(pid)}, sample.value)
        yield from families.values()


def _live_workers(directory: str) -> list[int]:
    """Workers whose live gauges are on file (``forget_process`` removes a dead one's)."""
    pids = set()
    for name in os.listdir(directory):
        if name.startswith("gauge_live") and name.endswith(".db"):
            pid = name.removesuffix(".db").rpartition("_")[2]
            if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
                pids.add(int(pid))
    return sorted(pids)
