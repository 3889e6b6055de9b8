"""Guessing enrollment keys from one address is slowed to a trickle: after a burst of failed
enrollments the address gets 429 + Retry-After (OTLP: 503, which its exporters retry), its
key not even looked at, and the burst is one audit entry, not one per attempt. Successful
enrollments cost nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.support import ROOT, ServerThread, post_json

ENROLL = "/api/v1/enroll"
BURST = 3


@pytest.fixture
def guarded_server(ingest_db: str) -> Iterator[ServerThread]:
    # Next to no refill during a test: each failure beyond the burst is throttled.
    config = replace(TEST_CONFIG, enroll_failure_rate=0.001, enroll_failure_burst=BURST)
    server = ServerThread(ingest_db, config).start()
    yield server
    server.stop()


def throttled_entries(services) -> list:
    page = services.audit.list_entries(ROOT, action="enrollment.throttled", limit=1000)
    return page.items


def test_failed_enrollments_beyond_a_burst_get_429_and_one_audit_entry(
    guarded_server, branch, ingest_services
):
    audited_before = len(throttled_entries(ingest_services))
    # Successful enrollments (hosts behind one address enrolling together) cost nothing.
    enrolled = {post_json(guarded_server.url, ENROLL, branch.inventory()).status for _ in range(9)}
    assert enrolled == {201}
    wrong = {**branch.inventory(), "enrollment_key": "argos_guess"}
    statuses = [post_json(guarded_server.url, ENROLL, wrong).status for _ in range(BURST)]
    assert statuses == [401] * BURST

    refused = [post_json(guarded_server.url, ENROLL, wrong) for _ in range(10)]
    assert {r.status for r in refused} == {429}
    assert all(int(r.headers["retry-after"]) > 0 for r in refused)
    assert refused[0].json["error"] == "rate_limited"
    # The right key does not get through either while the address is throttled.
    assert post_json(guarded_server.url, ENROLL, branch.inventory()).status == 429

    entries = throttled_entries(ingest_services)
    assert len(entries) == audited_before + 1
    assert (entries[0].source, entries[0].after) == (
        "ingest:127.0.0.1",
        {"failed_enrollments": BURST},
    )


def test_wrong_otlp_keys_count_as_failed_enrollments_and_get_503(guarded_server):
    headers = {"Content-Type": "application/json", "Authorization": "Bearer argos_guess"}
    replies = [
        post_json(guarded_server.url, "/v1/metrics", {"resourceMetrics": []}, headers=headers)
        for _ in range(BURST + 2)
    ]
    assert [r.status for r in replies] == [401] * BURST + [503, 503]
    assert int(replies[-1].headers["retry-after"]) > 0
    assert replies[-1].json["error"] == "rate_limited"
