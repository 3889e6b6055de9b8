"""Many hosts enrolling at once with one branch key, against a real server and database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from argos_core.models import Agent, EnrollmentKey
from tests.e2e.support import make_branch, post_json

ENROLL = "/api/v1/enroll"
HOSTS = 40
THREADS = 20


def test_forty_hosts_enrolling_on_twenty_threads_with_one_key_all_succeed_and_are_counted(
    ingest_server, ingest_services
):
    branch = make_branch(ingest_services)
    bodies = [branch.inventory(machine_id=f"concurrent-{i:02d}") for i in range(HOSTS)]
    with ThreadPoolExecutor(THREADS) as pool:
        replies = list(pool.map(lambda body: post_json(ingest_server.url, ENROLL, body), bodies))
    assert [r.status for r in replies] == [201] * HOSTS, [
        (r.status, r.body[:200]) for r in replies if r.status != 201
    ]
    assert len({r.json["agent_id"] for r in replies}) == HOSTS
    with ingest_services.engine.connect() as conn:
        uses = conn.scalar(select(EnrollmentKey.use_count).where(EnrollmentKey.id == branch.key_id))
        agents = conn.scalar(
            select(func.count()).select_from(Agent).where(Agent.enrollment_key_id == branch.key_id)
        )
    assert (uses, agents) == (HOSTS, HOSTS)
