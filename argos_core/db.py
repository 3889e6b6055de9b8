"""Engine and session factory. Nothing connects at import time; callers wire this once."""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
from pathlib import Path

import pymysql
from sqlalchemy import Connection, Engine, Executable, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import ConfigurationError

SUPPORTED_BACKENDS = ("sqlite", "mysql", "mariadb")
SYNC_WAIT = "argos_sync_wait"
GALERA = "argos_galera"
WSREP_NOT_READY = 1047
ROW_BYTES = 1024  # above any row Argos writes, as a Galera write-set entry
PRIVATE_FILE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")


def make_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> Engine:
    """Create an engine tuned per backend: SQLite gets WAL + foreign keys, MySQL strict utf8mb4."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            "The database URL is not valid; expected e.g. sqlite:///path/to/argos.db or"
            " mysql+pymysql://user:password@host:3306/argos."
        ) from exc
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ConfigurationError(
            f"Unsupported database '{parsed.get_backend_name()}'; use sqlite:/// or mysql+pymysql://."
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                keep_private(Path(parsed.database))
            engine = create_engine(
                parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        parsed = parsed.set(query=query)
        engine = create_engine(
            parsed,
            echo=echo,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=3600,
            connect_args={
                "init_command": "SET SESSION sql_mode='STRICT_TRANS_TABLES,NO_ZERO_DATE,"
                "NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION',"
                " time_zone='+00:00'",
                "connect_timeout": 5,
            },
        )
        event.listen(engine, "connect", _mysql_on_connect)
        event.listen(engine, "before_cursor_execute", _sync_wait, retval=True)
        event.listen(engine, "handle_error", _node_not_ready_is_a_disconnect)
        return engine
    except NoSuchModuleError as exc:
        raise ConfigurationError(f"No database driver for '{_redact(url)}'.") from exc


def fresh(statement: Executable) -> Executable:
    """``statement`` sees every transaction committed anywhere in the cluster before it runs.

    On a Galera node a read may run before the node has applied a write that another node
    (or this one, through another connection, after haproxy moved) has just committed; this
    makes the node wait for it (``wsrep_sync_wait``). Elsewhere it changes nothing."""
    return statement.execution_options(**{SYNC_WAIT: True})


def max_write_set_rows(conn: Connection) -> int | None:
    """How many rows one transaction may write on this Galera node with room to spare (half
    of ``wsrep_max_ws_rows``, and of ``wsrep_max_ws_size`` at ``ROW_BYTES`` a row), or None
    when the database sets no such limit (not Galera)."""
    if not conn.info.get(GALERA):
        return None
    max_rows, max_bytes = conn.exec_driver_sql(
        "SELECT @@wsrep_max_ws_rows, @@wsrep_max_ws_size"
    ).one()
    limit = int(max_bytes) // ROW_BYTES // 2
    return min(limit, int(max_rows) // 2) if int(max_rows) else limit


def _mysql_on_connect(dbapi_connection, record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT @@wsrep_on")
        record.info[GALERA] = bool(cursor.fetchone()[0])
    except pymysql.MySQLError:  # MySQL, or a MariaDB built without wsrep
        record.info[GALERA] = False
    finally:
        cursor.close()


def _sync_wait(conn, _cursor, statement, parameters, context, _executemany):
    if context is not None and context.execution_options.get(SYNC_WAIT) and conn.info.get(GALERA):
        statement = f"SET STATEMENT wsrep_sync_wait=1 FOR {statement}"
    return statement, parameters


def _node_not_ready_is_a_disconnect(context: ExceptionContext) -> None:
    """A Galera node outside the primary component answers 1047 to everything: drop the
    connection (the pool then connects again, through haproxy to a node that can serve)."""
    orig = context.original_exception
    if isinstance(orig, pymysql.MySQLError) and orig.args and orig.args[0] == WSREP_NOT_READY:
        context.is_disconnect = True


def keep_private(database: Path) -> None:
    """The SQLite file (password hashes, tokens' digests) readable by its owner alone.

    A missing file is created 0600 before SQLite opens it, and SQLite gives its ``-wal`` and
    ``-shm`` files the database file's mode; a file left readable by others (by an earlier
    version) is tightened, with its ``-wal``/``-shm``, when its owner opens it.
    """
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        for path in (database, *(database.with_name(database.name + s) for s in SIDE_FILES)):
            with contextlib.suppress(OSError):  # absent, or someone else's: leave it be
                if path.stat().st_mode & 0o077:
                    path.chmod(PRIVATE_FILE)
    except OSError:
        pass  # no such directory or no right to create: SQLite says so in its own words


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # Let SQLAlchemy issue BEGIN itself so SAVEPOINTs and rollbacks behave (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    try:
        cursor.execute("SELECT sin(0), cos(0), floor(0.5)")
    except sqlite3.OperationalError:  # SQLite built without its math functions
        for name, fn in (("sin", math.sin), ("cos", math.cos), ("floor", math.floor)):
            dbapi_connection.create_function(name, 1, fn, deterministic=True)
    cursor.close()


def _sqlite_on_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable>"
