"""A session lookup that records its use survives another writer committing meanwhile.

On SQLite (WAL), a transaction that has read and then tries to write fails at once with
"database is locked" when another connection committed in between: the busy timeout
does not apply to a stale snapshot. The demo's server answered 503 to the console this way
while the simulator wrote telemetry, so the touch is a transaction of its own.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, text, update

from argos_core.access_tokens import AccessTokenSigner
from argos_core.bootstrap import bootstrap
from argos_core.db import make_engine
from argos_core.models import ConsoleSession, utcnow
from argos_core.services.session_service import SessionService
from tests.databases import scratch_database

PASSWORD = "Correct-horse-9"


def test_a_lookup_that_touches_the_session_survives_a_concurrent_commit_on_sqlite(tmp_path):
    with scratch_database("sqlite", tmp_path) as url:
        services = bootstrap(url)
        other = make_engine(url)
        try:
            services.users.create_superadmin("root", PASSWORD)
            signer = AccessTokenSigner("k" * 40)
            sessions = SessionService(services.session_factory, services.users, signer)
            signed = sessions.login("root", PASSWORD, source="192.0.2.1")
            session_id = signer.verify(signed.access_token).session_id
            with services.engine.begin() as conn:
                conn.execute(text("CREATE TABLE elsewhere (n INTEGER PRIMARY KEY)"))
                conn.execute(
                    update(ConsoleSession).values(last_used_at=utcnow() - timedelta(hours=1))
                )
            writes = []

            @event.listens_for(services.engine, "after_cursor_execute")
            def another_writer_commits(conn, cursor, statement, *_args) -> None:
                if not writes and statement.lstrip().upper().startswith("SELECT"):
                    with other.begin() as elsewhere:
                        elsewhere.execute(text("INSERT INTO elsewhere (n) VALUES (1)"))
                    writes.append(statement)

            principal = sessions.principal(session_id, source="192.0.2.9")
            assert writes, "the other writer never committed"
            assert principal.username == "root"
            with services.engine.connect() as conn:
                used = conn.scalar(text("SELECT last_used_at FROM sessions"))
            assert str(used) >= str(utcnow() - timedelta(minutes=1))
        finally:
            other.dispose()
            services.close()
