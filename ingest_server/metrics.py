"""Prometheus metrics of the ingest server.

One process: each app keeps its own registry. With ``--processes N`` the supervisor calls
:func:`share_between_processes` before forking, so every worker writes its values to files
in one directory and any worker's ``/metrics`` answers for all of them (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


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

    def count_request(self, route: str, status: int) -> None:
        key = (route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(route, str(status))
        child.inc()

    def exposition(self) -> bytes:
        directory = os.environ.get(MULTIPROC_ENV)
        if not directory:
            return generate_latest(self.registry)
        everyone = CollectorRegistry()
        multiprocess.MultiProcessCollector(everyone, path=directory)
        return generate_latest(everyone)
