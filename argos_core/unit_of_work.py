"""One session per unit of work; leaving the block without ``commit()`` rolls back.

A function that runs a write transaction in one is decorated with
``argos_core.transactions.retrying`` so that a deadlock or certification conflict runs it again.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import DatabaseUnavailable
from argos_core.transactions import is_connection_error


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        except DBAPIError:
            pass
        finally:
            self.session.close()
        if is_connection_error(exc):
            raise DatabaseUnavailable("The database is unavailable right now.") from exc

    def commit(self) -> None:
        self.session.commit()
