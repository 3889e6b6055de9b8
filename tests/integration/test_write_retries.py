"""Write transactions run again when the database rolls them back (deadlock, certification
conflict, lock wait timeout, SQLite's refused lock upgrade), and after a lost connection only
when they are idempotent. Real conflicts on real databases, provoked with two connections."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from argos_core.db import make_engine, make_session_factory
from argos_core.errors import DatabaseUnavailable
from argos_core.leases import EPOCH
from argos_core.models import Job
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

RETRY_LOGGER = "argos_core.transactions"


@pytest.fixture
def sf(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_database_url, pool_size=4)
    with engine.begin() as conn:
        for name in ("a", "b"):
            conn.execute(Job.__table__.insert().values(name=name, owner="", until=EPOCH))
    yield make_session_factory(engine)
    engine.dispose()


def _owners(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Job.name, Job.owner)).all())


def _retries(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == RETRY_LOGGER]


def test_two_transactions_that_conflict_both_commit_and_the_retry_is_logged_once(
    db_backend, sf, caplog
):
    """MariaDB: each locks one row, then wants the other's (a deadlock, 1213). SQLite: both
    read, then both write (the later writer's snapshot is stale: "database is locked")."""
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    meet = threading.Barrier(2, timeout=20)
    first_try: set[str] = set()
    errors: list[BaseException] = []

    @retrying
    def claim_both(owner: str, order: tuple[str, str]) -> None:
        with UnitOfWork(sf) as uow:
            session = uow.session
            session.execute(select(Job.owner)).all()
            together = owner not in first_try
            first_try.add(owner)
            if together and db_backend == "sqlite":
                meet.wait()
            for n, name in enumerate(order):
                session.execute(update(Job).where(Job.name == name).values(owner=owner))
                if together and db_backend == "mysql" and n == 0:
                    meet.wait()
            uow.commit()

    def worker(owner: str, order: tuple[str, str]) -> None:
        try:
            claim_both(owner, order)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=("one", ("a", "b"))),
        threading.Thread(target=worker, args=("two", ("b", "a"))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert errors == []
    owners = _owners(sf.kw["bind"])
    assert owners["a"] == owners["b"] in ("one", "two")  # one whole transaction won last
    retries = _retries(caplog)
    assert len(retries) == 1
    assert retries[0].levelno == logging.WARNING
    assert "claim_both" in retries[0].getMessage()
    assert "\n" not in retries[0].getMessage()


def _write_after_losing_the_connection(sf: sessionmaker[Session], killed: list[int]) -> None:
    """On the first call, the connection is killed (as a node dying would) before the write."""
    with UnitOfWork(sf) as uow:
        session = uow.session
        if not killed:
            own_id = session.scalar(text("SELECT CONNECTION_ID()"))
            with sf.kw["bind"].connect() as other:
                other.exec_driver_sql(f"KILL {int(own_id)}")
            killed.append(own_id)
        session.execute(update(Job).where(Job.name == "a").values(owner="written"))
        uow.commit()


def test_a_lost_connection_is_retried_for_idempotent_work(db_backend, sf, caplog):
    if db_backend != "mysql":
        pytest.skip("killing a connection needs a database server; SQLite is a local file")
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    killed: list[int] = []
    retrying(idempotent=True)(_write_after_losing_the_connection)(sf, killed)
    assert len(killed) == 1
    assert _owners(sf.kw["bind"])["a"] == "written"
    assert len(_retries(caplog)) == 1


def test_a_lost_connection_is_not_retried_for_work_that_may_not_run_twice(db_backend, sf, caplog):
    if db_backend != "mysql":
        pytest.skip("killing a connection needs a database server; SQLite is a local file")
    caplog.set_level(logging.WARNING, logger=RETRY_LOGGER)
    killed: list[int] = []
    with pytest.raises(DatabaseUnavailable):
        retrying(_write_after_losing_the_connection)(sf, killed)
    assert _owners(sf.kw["bind"])["a"] == ""
    assert _retries(caplog) == []
