"""One session per unit of work; leaving the block without ``commit()`` rolls back."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import DatabaseUnavailable


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


def is_connection_error(exc: BaseException | None) -> bool:
    """Whether a database error means 'cannot reach the database' rather than bad data."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
        # MySQL client codes 2002/2003/2006/2013 and server shutdown 1053; SQLite's
        # "unable to open database file" is a connection problem too.
        return code in (1053, 2002, 2003, 2006, 2013) or "unable to open" in str(exc.orig)
    return False
