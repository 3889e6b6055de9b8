"""Engine and session factory. Nothing connects at import time; callers wire this once."""

from __future__ import annotations

import math
import sqlite3

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from argos_core.errors import ConfigurationError

SUPPORTED_BACKENDS = ("sqlite", "mysql", "mariadb")


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
            engine = create_engine(
                parsed, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        query = dict(parsed.query)
        query.setdefault("charset", "utf8mb4")
        parsed = parsed.set(query=query)
        return create_engine(
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
    except NoSuchModuleError as exc:
        raise ConfigurationError(f"No database driver for '{_redact(url)}'.") from exc


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
