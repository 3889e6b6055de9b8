"""Telemetry batch validation (the rules of PROTOCOL.md) without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest_server.samples import MAX_SAMPLES, InvalidBatch, parse_batch

NOW = 1_800_000_000.0


def test_valid_samples_become_rows_in_column_order():
    when = datetime(2027, 1, 15, 8, tzinfo=UTC)
    body = {
        "samples": [
            {"ts": when.isoformat(), "cpu_percent": 5, "uptime_s": 7},
            {"ts": 1_700_000_000.9, "load_1m": 1.5},
        ]
    }
    assert parse_batch(body, 42, NOW) == [
        (42, int(when.timestamp()), 5.0, None, None, None, None, None, 7),
        (42, 1_700_000_000, None, None, None, None, None, 1.5, None),
    ]


def test_timestamps_up_to_five_minutes_ahead_are_accepted_and_no_further():
    assert parse_batch({"samples": [{"ts": NOW + 300, "cpu_percent": 1}]}, 1, NOW)
    with pytest.raises(InvalidBatch):
        parse_batch({"samples": [{"ts": NOW + 301, "cpu_percent": 1}]}, 1, NOW)


def test_every_bad_sample_is_reported_with_its_index_and_field():
    body = {"samples": [{"ts": 1, "cpu_percent": 1}, {"ts": 1, "mem_percent": -1}, {"ts": 1}]}
    with pytest.raises(InvalidBatch) as error:
        parse_batch(body, 1, NOW)
    assert [(d["index"], d["field"]) for d in error.value.details] == [
        (1, "mem_percent"),
        (2, "sample"),
    ]


def test_the_error_list_is_capped_for_huge_bad_batches():
    body = {"samples": [{"ts": "bad"}] * MAX_SAMPLES}
    with pytest.raises(InvalidBatch) as error:
        parse_batch(body, 1, NOW)
    assert len(error.value.details) == 20


@pytest.mark.parametrize("value", [10**400, -(10**400), float("inf"), float("nan")])
def test_huge_and_non_finite_numbers_are_rejected_not_crashing(value):
    with pytest.raises(InvalidBatch):
        parse_batch({"samples": [{"ts": 1, "cpu_percent": value}]}, 1, NOW)
    with pytest.raises(InvalidBatch):
        parse_batch({"samples": [{"ts": value, "cpu_percent": 1}]}, 1, NOW)
