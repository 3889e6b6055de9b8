"""Shared console answers: kept for their time only, bounded, keyed by role and scope node,
and not stored when a write finished while they were read."""

from __future__ import annotations

import asyncio

import pytest

from argos_core.scope import Principal
from ingest_server.console_api.shared_answers import SharedAnswer, SharedAnswers, answer_key
from ingest_server.context import IngestConfig
from ingest_server.main import build_parser

ANSWER = SharedAnswer(b"{}", '"e"')
QUERY = {"offset": [b"0"], "limit": [b"100"]}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_lasts_its_time_and_no_longer() -> None:
    clock = Clock()
    answers = SharedAnswers(2.0, clock=clock)
    answers.put("k", ANSWER, answers.generation())
    clock.now += 1.9
    assert answers.get("k") == ANSWER
    clock.now += 0.1
    assert answers.get("k") is None


def test_the_oldest_answers_go_first_beyond_the_bound() -> None:
    answers = SharedAnswers(2.0, max_entries=2, clock=Clock())
    for key in ("a", "b", "c"):
        answers.put(key, ANSWER, answers.generation())
    assert [answers.get(k) for k in ("a", "b", "c")] == [None, ANSWER, ANSWER]


def test_a_write_drops_every_answer_and_any_read_under_way() -> None:
    answers = SharedAnswers(2.0, clock=Clock())
    answers.put("old", ANSWER, answers.generation())
    reading = answers.generation()
    answers.clear()
    answers.put("read before the write finished", ANSWER, reading)
    assert answers.get("old") is None
    assert answers.get("read before the write finished") is None


def test_nothing_is_kept_when_sharing_is_off() -> None:
    answers = SharedAnswers(0.0, clock=Clock())
    answers.put("k", ANSWER, answers.generation())
    assert not answers.enabled and answers.get("k") is None


def test_callers_of_a_read_under_way_get_its_answer_once_stored() -> None:
    async def scenario() -> None:
        answers = SharedAnswers(2.0, clock=Clock())
        assert answers.under_way("k") is None
        answers.reading("k")
        waiting = answers.under_way("k")
        assert waiting is not None and not waiting.done()
        answers.reading("k")  # a second reader does not replace the first one's read
        assert answers.under_way("k") is waiting
        answers.put("k", ANSWER, answers.generation())
        assert await waiting == ANSWER
        assert answers.under_way("k") is None

    asyncio.run(scenario())


def test_callers_of_a_read_that_stores_nothing_read_themselves() -> None:
    async def scenario() -> None:
        answers = SharedAnswers(2.0, clock=Clock())
        answers.reading("before a write")
        overtaken = answers.under_way("before a write")
        reading = answers.generation()
        answers.clear()
        answers.put("before a write", ANSWER, reading)
        answers.reading("failed")
        failed = answers.under_way("failed")
        answers.abandon("failed")
        assert overtaken is not None and failed is not None
        assert (await overtaken, await failed) == (None, None)
        assert answers.under_way("before a write") is answers.under_way("failed") is None

    asyncio.run(scenario())


def test_the_key_is_the_role_and_scope_node_not_the_user() -> None:
    def key(username: str, role: str, tenant=None, company=None, branch=None):
        principal = Principal(username, role, tenant, company, branch)  # type: ignore[arg-type]
        return answer_key(principal, "/api/v1/orgs", QUERY)

    assert key("ann", "admin", 1) == key("bob", "admin", 1)
    assert key("ann", "superadmin") == key("bob", "superadmin")
    different = [
        key("ann", "admin", 1),
        key("ann", "viewer", 1),
        key("ann", "admin", 2),
        key("ann", "admin", 1, 10),
        key("ann", "admin", 1, 10, 100),
        key("ann", "superadmin"),
        key("ann", "admin"),  # no usable scope: sees nothing
    ]
    assert len(set(different)) == len(different)


def test_the_key_holds_the_path_and_query() -> None:
    principal = Principal("ann", "superadmin")
    assert answer_key(principal, "/a", QUERY) == answer_key(
        principal, "/a", dict(reversed(QUERY.items()))
    )
    assert answer_key(principal, "/a", QUERY) != answer_key(principal, "/b", QUERY)
    assert answer_key(principal, "/a", QUERY) != answer_key(principal, "/a", {"offset": [b"1"]})


def test_the_server_shares_answers_for_two_seconds_and_at_most_five() -> None:
    parser = build_parser()
    assert parser.parse_args([]).shared_answers == IngestConfig.shared_answer_ttl_s == 2.0
    assert parser.parse_args(["--shared-answers", "0"]).shared_answers == 0
    for wrong in ("5.5", "-1", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--shared-answers", wrong])
