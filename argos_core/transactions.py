"""Write transactions that start over when the database asks them to.

MariaDB answers a deadlock, and Galera a certification conflict found at ``COMMIT``, with
1213; a lock wait that ran out is 1205; SQLite says "database is locked" when a read
transaction may not upgrade to a write. In each case the transaction was rolled back whole
and the only cure is to run it again from its first statement, so ``retrying`` re-runs the
whole decorated function (which opens its own unit of work).

A lost connection is different: the ``COMMIT`` may have been applied before the client saw
the connection drop (a Galera node killed mid-commit, haproxy moving to another node). Such
calls are re-run only when they are idempotent (``retrying(idempotent=True)``): running them
twice leaves the same state as running them once.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar, overload

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from argos_core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

CONFLICT_MYSQL_CODES = frozenset({1205, 1213})  # lock wait timeout; deadlock / certification
# Client codes 2002/2003/2006/2013 (cannot connect, gone away, lost), server shutdown 1053,
# idle disconnect 4031, and a Galera node that left the primary component (1047, "WSREP has
# not yet prepared node for application use"): in each the statement did not reach a node
# that can serve it, and a new connection (through haproxy: to another node) may succeed.
CONNECTION_MYSQL_CODES = frozenset({1047, 1053, 2002, 2003, 2006, 2013, 4031})
ATTEMPTS = 10  # conflicts: about 4 s of pauses in all
# A lost connection is tried again for this long: a Galera node's death takes the others a few
# seconds to agree on (evs.suspect_timeout), then haproxy's check to notice.
RECONNECT_WINDOW_S = 12.0
FIRST_DELAY_S = 0.01
MAX_DELAY_S = 1.0


def mysql_code(exc: BaseException) -> int | None:
    orig = getattr(exc, "orig", None)
    args = getattr(orig, "args", None)
    return args[0] if args and isinstance(args[0], int) else None


def is_connection_error(exc: BaseException | None) -> bool:
    """Whether a database error means 'cannot reach the database' rather than bad data."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        # SQLite's "unable to open database file" is a connection problem too.
        return mysql_code(exc) in CONNECTION_MYSQL_CODES or "unable to open" in str(exc.orig)
    return False


def is_conflict(exc: BaseException) -> bool:
    """A deadlock, certification conflict, lock wait timeout or SQLite lock: the
    transaction was rolled back and may simply run again."""
    if not isinstance(exc, OperationalError) or is_connection_error(exc):
        return False
    return mysql_code(exc) in CONFLICT_MYSQL_CODES or "is locked" in str(exc.orig)


def may_retry(exc: BaseException, *, idempotent: bool) -> bool:
    if is_conflict(exc):
        return True
    if not idempotent:
        return False
    if isinstance(exc, DatabaseUnavailable):  # a unit of work's translation of a lost link
        return exc.__cause__ is not None and is_connection_error(exc.__cause__)
    return is_connection_error(exc)


def run(
    work: Callable[[], R], *, what: str, idempotent: bool = False, attempts: int = ATTEMPTS
) -> R:
    """``work()``, run again (after a short, growing, jittered pause) while it fails in a way
    ``may_retry`` accepts: up to ``attempts`` times after conflicts, and for
    ``RECONNECT_WINDOW_S`` after lost connections. Each retry is one WARNING line."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return work()
        except (DBAPIError, DatabaseUnavailable) as exc:
            if not may_retry(exc, idempotent=idempotent):
                raise
            if is_conflict(exc):
                if attempt >= attempts:
                    raise
            elif time.monotonic() - started > RECONNECT_WINDOW_S:
                raise
            log.warning("Retrying %s (attempt %d) after: %s", what, attempt + 1, _brief(exc))
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (attempt - 1))
        time.sleep(delay * random.uniform(0.5, 1.5))


@overload
def retrying(fn: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def retrying(*, idempotent: bool = False) -> Callable[[Callable[P, R]], Callable[P, R]]: ...
def retrying(fn=None, /, *, idempotent=False):
    """Decorate a function that runs one write transaction (its own unit of work) so that it
    runs again on a conflict, and, when ``idempotent``, on a lost connection."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return run(lambda: func(*args, **kwargs), what=func.__qualname__, idempotent=idempotent)

        return wrapper

    return decorate(fn) if fn is not None else decorate


def _brief(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) else exc
    orig = getattr(cause, "orig", None) or cause
    return f"{type(orig).__name__} {str(orig).splitlines()[0] if str(orig) else ''}".strip()
