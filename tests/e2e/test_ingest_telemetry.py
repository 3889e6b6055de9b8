"""POST /api/v1/telemetry, /healthz and /metrics against a real server and database."""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import replace
from datetime import UTC, datetime

import jwt
import pytest
from sqlalchemy import text

from argos_core.tokens import ISSUER, TokenSigner
from ingest_server.context import IngestConfig
from tests.e2e.conftest import TEST_CONFIG, count_rows
from tests.e2e.support import (
    ROOT,
    ServerThread,
    enroll,
    make_branch,
    post_json,
    request,
    sample,
    wait_until,
)

TELEMETRY = "/api/v1/telemetry"
T0 = 1_790_000_000


def send(server, token, samples, **kw):
    return post_json(server.url, TELEMETRY, {"samples": samples}, token=token, **kw)


def test_batch_is_stored_and_acknowledged_with_counts(ingest_server, agent, ingest_services):
    full = {
        "ts": "2026-11-26T10:00:00Z",
        "cpu_percent": 12.5,
        "mem_percent": 40.1,
        "disk_percent": 71.0,
        "net_rx_bytes": 1234,
        "net_tx_bytes": 5678,
        "load_1m": 0.42,
        "uptime_s": 86400,
    }
    reply = send(ingest_server, agent.token, [full, sample(T0), {"ts": T0 + 1, "load_1m": 3}])
    assert reply.status == 200
    assert reply.json == {"accepted": 3, "duplicates": 0, "report_interval_s": 30}
    assert count_rows(ingest_services, agent.agent_id) == 3
    ten_am = int(datetime(2026, 11, 26, 10, tzinfo=UTC).timestamp())
    series = ingest_services.telemetry.telemetry_range(ROOT, agent.agent_uuid, ten_am, ten_am + 1)
    assert series.ts == [ten_am]
    assert series.metrics["net_tx_bytes"] == [5678.0]


def test_receiving_telemetry_moves_last_seen(ingest_server, agent, ingest_services):
    assert ingest_services.agents.get_agent(ROOT, agent.agent_uuid).summary.last_seen is None
    assert send(ingest_server, agent.token, [sample(T0)]).status == 200
    summary = ingest_services.agents.get_agent(ROOT, agent.agent_uuid).summary
    assert summary.last_seen is not None
    assert summary.status.value == "online"


def test_resent_batch_counts_duplicates_and_stores_nothing_twice(
    ingest_server, agent, ingest_services
):
    batch = [sample(T0 + i) for i in range(5)]
    assert send(ingest_server, agent.token, batch).json["accepted"] == 5
    again = send(ingest_server, agent.token, [*batch, sample(T0 + 5)])
    assert (again.json["accepted"], again.json["duplicates"]) == (1, 5)
    inside = send(ingest_server, agent.token, [sample(T0 + 10), sample(T0 + 10, cpu_percent=99)])
    assert (inside.json["accepted"], inside.json["duplicates"]) == (1, 1)
    assert count_rows(ingest_services, agent.agent_id) == 7


def test_one_invalid_sample_rejects_the_whole_batch_naming_index_and_field(
    ingest_server, agent, ingest_services
):
    batch = [sample(T0), sample(T0 + 1), sample(T0 + 2, mem_percent=101), sample(T0 + 3)]
    reply = send(ingest_server, agent.token, batch)
    assert reply.status == 400
    assert reply.json["error"] == "invalid_batch"
    assert reply.json["details"][0] == {
        "index": 2,
        "field": "mem_percent",
        "message": "'mem_percent' must be between 0 and 100.",
    }
    assert "Sample 2" in reply.json["message"]
    assert count_rows(ingest_services, agent.agent_id) == 0


INVALID_SAMPLES = [
    ({"cpu_percent": 1}, "ts"),
    ({"ts": None, "cpu_percent": 1}, "ts"),
    ({"ts": "yesterday", "cpu_percent": 1}, "ts"),
    ({"ts": "2026-11-26T10:00:00", "cpu_percent": 1}, "ts"),
    ({"ts": "2026-11-26", "cpu_percent": 1}, "ts"),
    ({"ts": True, "cpu_percent": 1}, "ts"),
    ({"ts": -5, "cpu_percent": 1}, "ts"),
    ({"ts": [T0], "cpu_percent": 1}, "ts"),
    ({"ts": "future", "cpu_percent": 1}, "ts"),
    ({"ts": T0}, "sample"),
    ({"ts": T0, "unknown_metric": 5}, "sample"),
    ({"ts": T0, "cpu_percent": 100.01}, "cpu_percent"),
    ({"ts": T0, "cpu_percent": -0.1}, "cpu_percent"),
    ({"ts": T0, "cpu_percent": "12"}, "cpu_percent"),
    ({"ts": T0, "mem_percent": True}, "mem_percent"),
    ({"ts": T0, "disk_percent": "<1e400>"}, "disk_percent"),
    ({"ts": T0, "net_rx_bytes": -1}, "net_rx_bytes"),
    ({"ts": T0, "net_tx_bytes": 1.5}, "net_tx_bytes"),
    ({"ts": T0, "net_tx_bytes": 2**64}, "net_tx_bytes"),
    ({"ts": T0, "uptime_s": "86400"}, "uptime_s"),
    ({"ts": T0, "load_1m": -0.5}, "load_1m"),
    ({"ts": T0, "load_1m": {"v": 1}}, "load_1m"),
    ("not an object", "sample"),
]


@pytest.mark.parametrize(("bad", "field"), INVALID_SAMPLES)
def test_every_validation_rule_is_a_400_naming_the_field(
    ingest_server, agent, ingest_services, bad, field
):
    if isinstance(bad, dict) and bad.get("ts") == "future":
        bad = {**bad, "ts": int(time.time()) + 3600}  # well past the 300 s allowed, however slow
    body = json.dumps({"samples": [sample(T0), bad]}).replace('"<1e400>"', "1e400").encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {agent.token}"}
    reply = request(ingest_server.url, "POST", TELEMETRY, body, headers)
    assert reply.status == 400, reply.body
    assert reply.json["details"][0]["index"] == 1
    assert reply.json["details"][0]["field"] == field
    assert count_rows(ingest_services, agent.agent_id) == 0


def test_timestamps_at_the_edges_are_accepted(ingest_server, agent):
    now = int(time.time())
    reply = send(
        ingest_server,
        agent.token,
        [
            {"ts": now + 290, "cpu_percent": 0},
            {"ts": "2026-11-26T10:00:00.75+01:00", "cpu_percent": 100},
            {"ts": T0 + 0.9, "net_rx_bytes": 0, "net_tx_bytes": 2**63 - 1},
        ],
    )
    assert reply.status == 200, reply.body
    assert reply.json["accepted"] == 3


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"samples": {}},
        {"samples": []},
        {"samples": [sample(T0 + i) for i in range(1001)]},
        [sample(T0)],
    ],
    ids=["no samples", "samples not a list", "empty", "1001 samples", "bare list"],
)
def test_malformed_batches_are_400(ingest_server, agent, ingest_services, payload):
    reply = post_json(ingest_server.url, TELEMETRY, payload, token=agent.token)
    assert reply.status == 400
    assert count_rows(ingest_services, agent.agent_id) == 0


def test_a_thousand_samples_in_one_request_are_accepted(ingest_server, agent, ingest_services):
    reply = send(ingest_server, agent.token, [sample(T0 + i) for i in range(1000)])
    assert reply.json["accepted"] == 1000
    assert count_rows(ingest_services, agent.agent_id) == 1000


@pytest.mark.parametrize(
    "body", [b"{nope", b'{"samples": [{"ts": 1, "cpu_percent": NaN}]}', b"\xff\xfe", b""]
)
def test_bodies_that_are_not_json_are_400(ingest_server, agent, body):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {agent.token}"}
    reply = request(ingest_server.url, "POST", TELEMETRY, body, headers)
    assert reply.status == 400
    assert reply.json["error"] == "invalid_json"


@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(ingest_server, agent, media_type):
    headers = {"Authorization": f"Bearer {agent.token}"}
    if media_type:
        headers["Content-Type"] = media_type
    body = json.dumps({"samples": [sample(T0)]}).encode()
    reply = request(ingest_server.url, "POST", TELEMETRY, body, headers)
    assert reply.status == 415
    assert reply.json["error"] == "unsupported_media_type"


def test_content_type_with_charset_is_fine(ingest_server, agent):
    reply = send(
        ingest_server,
        agent.token,
        [sample(T0)],
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert reply.status == 200


def test_oversized_body_is_413_and_the_connection_still_answers(ingest_server, agent):
    limit = ingest_server.config.max_body_bytes
    body = b'{"samples": [' + b" " * limit + b"]}"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {agent.token}"}
    reply = request(ingest_server.url, "POST", TELEMETRY, body, headers)
    assert reply.status == 413
    assert reply.json["error"] == "payload_too_large"


def test_gzip_bodies_are_accepted(ingest_server, agent, ingest_services):
    reply = send(ingest_server, agent.token, [sample(T0 + i) for i in range(50)], compress=True)
    assert reply.json["accepted"] == 50
    assert count_rows(ingest_services, agent.agent_id) == 50


def test_corrupt_gzip_is_400_and_a_gzip_bomb_is_413(ingest_server, agent):
    headers = {
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "Authorization": f"Bearer {agent.token}",
    }
    corrupt = request(ingest_server.url, "POST", TELEMETRY, b"\x1f\x8bnot gzip", headers)
    limit = ingest_server.config.max_body_bytes
    bomb = gzip.compress(b'{"samples": [' + b" " * (limit * 2) + b"]}")
    assert len(bomb) < limit
    too_big = request(ingest_server.url, "POST", TELEMETRY, bomb, headers)
    assert (corrupt.status, too_big.status) == (400, 413)
    unknown = request(
        ingest_server.url, "POST", TELEMETRY, b"{}", {**headers, "Content-Encoding": "br"}
    )
    assert unknown.status == 415


def _forged(agent_uuid: str) -> str:
    return TokenSigner("another-secret-key-that-is-also-long-enough").issue(agent_uuid)


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "forged", "expired", "none-alg"],
)
def test_missing_forged_or_expired_tokens_are_401(
    ingest_server, agent, ingest_services, authorization
):
    if authorization == "forged":
        authorization = f"Bearer {_forged(agent.agent_uuid)}"
    elif authorization == "expired":
        old = ingest_server.signer.issue(agent.agent_uuid, now=time.time() - 40 * 86400)
        authorization = f"Bearer {old}"
    elif authorization == "none-alg":
        claims = {"sub": agent.agent_uuid, "iat": 1, "exp": 2**40, "iss": ISSUER}
        authorization = f"Bearer {jwt.encode(claims, None, algorithm='none')}"
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = json.dumps({"samples": [sample(T0)]}).encode()
    reply = request(ingest_server.url, "POST", TELEMETRY, body, headers)
    assert reply.status == 401
    assert reply.json["error"] == "unauthorized"
    assert count_rows(ingest_services, agent.agent_id) == 0


def test_token_of_an_agent_that_does_not_exist_is_401(ingest_server):
    token = ingest_server.signer.issue("00000000-0000-0000-0000-000000000000")
    assert send(ingest_server, token, [sample(T0)]).status == 401


def test_revoking_an_agent_takes_effect_on_its_next_request(ingest_server, agent, ingest_services):
    assert send(ingest_server, agent.token, [sample(T0)]).status == 200
    ingest_services.agents.revoke_agent(ROOT, agent.agent_uuid)
    refused = send(ingest_server, agent.token, [sample(T0 + 1)])
    assert refused.status == 401
    assert refused.json["error"] == "unauthorized"
    assert count_rows(ingest_services, agent.agent_id) == 1


def test_an_agent_cannot_write_as_another(ingest_server, agent, branch, ingest_services):
    other = enroll(ingest_server, branch, ingest_services)
    payload = {
        "agent_id": other.agent_uuid,
        "samples": [{**sample(T0), "agent_id": other.agent_id, "agent_uuid": other.agent_uuid}],
    }
    reply = post_json(ingest_server.url, TELEMETRY, payload, token=agent.token)
    assert reply.status == 200
    assert count_rows(ingest_services, agent.agent_id) == 1
    assert count_rows(ingest_services, other.agent_id) == 0


def test_healthz_reports_the_database(ingest_server):
    reply = request(ingest_server.url, "GET", "/healthz")
    assert (reply.status, reply.json) == (200, {"status": "ok", "database": "ok"})


def test_metrics_expose_samples_requests_queue_and_flush_latency(ingest_server, agent):
    send(ingest_server, agent.token, [sample(T0), sample(T0)])
    send(ingest_server, agent.token, [{"ts": T0}])
    text = request(ingest_server.url, "GET", "/metrics").body.decode()
    for name in (
        "argos_samples_accepted_total",
        "argos_samples_duplicate_total",
        "argos_samples_rejected_total",
        'argos_http_requests_total{route="telemetry",status="200"}',
        'argos_http_requests_total{route="telemetry",status="400"}',
        "argos_writer_queue_samples",
        "argos_writer_flush_seconds_bucket",
    ):
        assert name in text


def test_unknown_paths_and_methods_answer_json(ingest_server):
    missing = request(ingest_server.url, "GET", "/nope")
    wrong_method = request(ingest_server.url, "GET", TELEMETRY)
    assert (missing.status, wrong_method.status) == (404, 405)
    assert wrong_method.json["error"] == "method_not_allowed"


def test_an_agent_over_its_rate_gets_429_with_retry_after(ingest_db, ingest_services):
    server = ServerThread(ingest_db, IngestConfig(agent_rate=0.5, agent_burst=3)).start()
    try:
        branch = make_branch(ingest_services)
        agent = enroll(server, branch, ingest_services)
        neighbour = enroll(server, branch, ingest_services)
        replies = [send(server, agent.token, [sample(T0 + i)]) for i in range(5)]
        other = send(server, neighbour.token, [sample(T0)])
    finally:
        server.stop()
    assert [r.status for r in replies] == [200, 200, 200, 429, 429]
    assert replies[3].json["error"] == "rate_limited"
    assert 1 <= int(replies[3].headers["retry-after"]) <= 2
    assert other.status == 200
    assert count_rows(ingest_services, agent.agent_id) == 3


def test_a_deleted_agent_is_refused_even_while_its_id_is_cached(
    ingest_server, agent, ingest_services
):
    assert send(ingest_server, agent.token, [sample(T0)]).status == 200
    with ingest_services.engine.begin() as conn:
        conn.execute(text("DELETE FROM telemetry WHERE agent_id = :a"), {"a": agent.agent_id})
        conn.execute(text("DELETE FROM agents WHERE id = :a"), {"a": agent.agent_id})
    reply = send(ingest_server, agent.token, [sample(T0 + 1)])
    assert reply.status == 401
    assert count_rows(ingest_services, agent.agent_id) == 0


def test_a_changed_report_interval_reaches_the_agent_once_its_cached_credentials_expire(
    ingest_db, ingest_services
):
    server = ServerThread(ingest_db, replace(TEST_CONFIG, credentials_ttl_s=0.2)).start()
    try:
        agent = enroll(server, make_branch(ingest_services), ingest_services)
        assert send(server, agent.token, [sample(T0)]).json["report_interval_s"] == 30
        with ingest_services.engine.begin() as conn:
            conn.execute(
                text("UPDATE agents SET report_interval_s = 60 WHERE id = :id"),
                {"id": agent.agent_id},
            )
        sent = iter(range(T0 + 1, T0 + 10_000))

        def told_60() -> bool:
            return send(server, agent.token, [sample(next(sent))]).json["report_interval_s"] == 60

        assert wait_until(told_60, 10)
    finally:
        server.stop()
