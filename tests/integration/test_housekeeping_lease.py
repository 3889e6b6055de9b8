"""Jobs run once across processes and hosts: a lease row in ``jobs`` claimed with one
conditional UPDATE, renewed while working, taken over when it runs out (housekeeping, and
the server's leased loops: the alert passes)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from argos_core.db import make_engine
from argos_core.housekeeping import HOUSEKEEPING_JOB
from argos_core.leases import Lease, LeaseLost
from argos_core.models import utcnow
from ingest_server.jobs.housekeeping import HousekeepingJob
from ingest_server.jobs.leased_loop import LeasedLoop

TTL = timedelta(minutes=5)


@pytest.fixture
def engines(fresh_database_url):
    """One engine per simulated process."""
    made = [make_engine(fresh_database_url) for _ in range(4)]
    yield made
    for engine in made:
        engine.dispose()


def test_one_claimant_wins_until_release_or_expiry(engines):
    first = Lease(engines[0], HOUSEKEEPING_JOB, "host-a", TTL)
    second = Lease(engines[1], HOUSEKEEPING_JOB, "host-b", TTL)
    assert first.claim()
    assert not second.claim()
    assert second.holder().owner == "host-a"
    with pytest.raises(LeaseLost):
        second.renew()
    first.renew()
    first.release()
    assert second.claim()
    assert not first.claim()
    # host-b dies holding it: once the lease has run out, another host takes over
    assert first.claim(now=utcnow() + TTL + timedelta(seconds=1))
    with pytest.raises(LeaseLost):
        second.renew()


def test_the_holder_claims_again_to_keep_it_and_others_still_cannot(engines):
    holder = Lease(engines[0], "alerts.deliver", "host-a", TTL)
    other = Lease(engines[1], "alerts.deliver", "host-b", TTL)
    assert holder.claim()
    later = utcnow() + TTL - timedelta(seconds=1)
    assert holder.claim(now=later)  # a holder's pass keeps the lease without releasing it
    assert not other.claim(now=later + timedelta(seconds=2))
    assert holder.holder().until == later + TTL


def test_racing_processes_claim_it_exactly_once(engines):
    leases = [Lease(e, "race", f"p{i}", TTL) for i, e in enumerate(engines)]
    leases[0].claim()
    leases[0].release()  # the row exists and is free
    start = threading.Barrier(len(leases))
    won: list[str] = []

    def claim(lease: Lease) -> None:
        start.wait()
        if lease.claim():
            won.append(lease.owner)

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_the_server_job_runs_only_when_it_holds_the_lease(engines):
    elsewhere = Lease(engines[0], HOUSEKEEPING_JOB, "other-host", TTL)
    job = HousekeepingJob(engines[1])
    assert elsewhere.claim()
    assert job.run_once() is None
    elsewhere.release()
    report = job.run_once()
    assert report is not None
    assert job.lease.holder() is None  # released after the pass


def test_the_holder_runs_every_pass_and_writes_its_lease_once_per_half_life(engines):
    passes: list[str] = []
    loops = [
        LeasedLoop(
            engine, "alerts.test", passes.append, interval_s=1, lease_ttl=timedelta(seconds=60)
        )
        for engine in engines[:2]
    ]
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(("UPDATE JOBS", "INSERT INTO JOBS")):
            writes.append(statement)

    event.listen(engines[0], "before_cursor_execute", count)
    assert [loops[0].run_once() for _ in range(5)] == [True] * 5
    assert [loops[1].run_once() for _ in range(3)] == [False] * 3
    assert len(passes) == 5
    assert len([w for w in writes if w.lstrip().upper().startswith("UPDATE")]) == 1


def test_claiming_a_lease_with_time_left_writes_nothing(engines):
    """Jobs claim every few seconds in every process. On SQLite a commit between another
    transaction's read and its write makes that write fail at once ("database is locked"),
    so while the holder's lease has time left, and while another holds it, a claim only reads."""
    holder = Lease(engines[0], "alerts.deliver", "host-a", TTL)
    other = Lease(engines[1], "alerts.deliver", "host-b", TTL)
    assert holder.claim()
    with engines[2].connect() as conn:
        tx = conn.begin()
        conn.execute(text("SELECT count(*) FROM jobs")).scalar()
        assert holder.claim()  # still more than half its time left
        assert not other.claim()
        conn.execute(text("UPDATE jobs SET owner = owner WHERE name = 'nothing'"))
        conn.execute(
            text("INSERT INTO jobs (name, owner, until) VALUES ('mine', '', :t)"), {"t": utcnow()}
        )
        tx.commit()
    assert holder.claim(now=utcnow() + TTL / 2 + timedelta(seconds=1))  # renewed past half
    assert holder.holder().until > utcnow() + TTL
