"""Hypothesis throws arbitrary telemetry bodies at a real server: no answer may be a 5xx, and
a refused batch must leave nothing behind (an accepted one must store exactly its count)."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest_server.samples import METRICS
from tests.e2e.conftest import count_rows
from tests.e2e.support import enroll, make_branch, request

NOW = int(time.time())
FIELDS = ["ts", *METRICS, "agent_id", "extra"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
timestamps = st.one_of(
    st.integers(min_value=NOW - 10**6, max_value=NOW + 600),
    st.floats(min_value=-10, max_value=NOW + 600, allow_nan=False),
    st.sampled_from(
        ["2026-11-26T10:00:00Z", "2026-11-26T10:00:00+02:00", "2026-11-26T10:00:00", "1e9", ""]
    ),
    scalars,
)
values = st.one_of(
    scalars,
    st.floats(min_value=0, max_value=100),
    st.integers(min_value=0, max_value=2**63),
    st.lists(scalars, max_size=2),
)
samples = st.one_of(
    st.fixed_dictionaries(
        {"ts": timestamps}, optional={name: values for name in FIELDS if name != "ts"}
    ),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=9),
    scalars,
)
bodies = st.one_of(
    st.fixed_dictionaries({"samples": st.lists(samples, max_size=6)}),
    st.dictionaries(st.sampled_from(["samples", "agent_id", "x"]), values, max_size=3),
    scalars,
    st.lists(samples, max_size=3),
)
RAW = st.one_of(st.binary(max_size=64), st.text(max_size=64).map(str.encode))


def _post(server, token: str, body: bytes, gzip_header: bool = False):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if gzip_header:
        headers["Content-Encoding"] = "gzip"
    return request(server.url, "POST", "/api/v1/telemetry", body, headers)


def _check(reply, before: int, after: int, sent) -> None:
    assert reply.status < 500, reply.body
    data = json.loads(reply.body)
    if reply.status == 200:
        assert after - before == data["accepted"]
        assert data["accepted"] + data["duplicates"] == len(sent["samples"])
    else:
        assert after == before
        assert set(data) == {"error", "message", "details"}


FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(body=bodies)
def test_fuzzed_json_bodies_never_cause_5xx_or_partial_writes(
    ingest_server, ingest_services, fuzz_agent, body
):
    before = count_rows(ingest_services, fuzz_agent.agent_id)
    reply = _post(ingest_server, fuzz_agent.token, json.dumps(body).encode())
    _check(reply, before, count_rows(ingest_services, fuzz_agent.agent_id), body)


@FUZZ
@given(raw=RAW, gzip_header=st.booleans())
def test_fuzzed_raw_bytes_never_cause_5xx(
    ingest_server, ingest_services, fuzz_agent, raw, gzip_header
):
    before = count_rows(ingest_services, fuzz_agent.agent_id)
    reply = _post(ingest_server, fuzz_agent.token, raw, gzip_header)
    assert reply.status < 500, reply.body
    if reply.status != 200:
        assert count_rows(ingest_services, fuzz_agent.agent_id) == before


@pytest.fixture(scope="module")
def fuzz_agent(ingest_server, ingest_services):
    return enroll(ingest_server, make_branch(ingest_services), ingest_services)
