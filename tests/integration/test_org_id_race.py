"""Org ids are unique because the database says so, even when processes race."""

import multiprocessing

from argos_core.db import make_engine, make_session_factory
from argos_core.services.org_service import allocate_org_id

CONTESTED = "RACE2"
WORKERS = 6


def _claim(url: str, worker: int, barrier, results) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    candidates = iter([CONTESTED, f"W{worker}XYZ", f"W{worker}QRS"])
    with factory() as session:
        barrier.wait(timeout=30)
        results.put(allocate_org_id(session, "tenant", generate=lambda: next(candidates)))
        session.commit()
    engine.dispose()


def test_processes_racing_for_one_org_id_get_distinct_ids(fresh_database_url):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    processes = [
        context.Process(target=_claim, args=(fresh_database_url, w, barrier, results))
        for w in range(WORKERS)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    claimed = [results.get(timeout=5) for _ in range(WORKERS)]
    assert len(set(claimed)) == WORKERS
    assert claimed.count(CONTESTED) == 1
