"""Which database errors mean "the database refused a value" (the sender's mistake, a 400)
rather than "the database cannot answer right now" (a 503 worth retrying).

PyMySQL files several of MariaDB's value errors under ``OperationalError`` (a failed CHECK,
4025; an out-of-range expression, 1690), the class it also uses for a lost connection, so
the error code decides, not the class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import DataError, DBAPIError

# MariaDB/MySQL server errors about a value: column cannot be null, out of range, data
# truncated, incorrect value, incorrect string value, illegal value for type, data too long,
# datetime overflow, out of range in an expression, invalid JSON text, CHECK constraint
# violated (MySQL 8), CONSTRAINT failed (MariaDB).
VALUE_ERROR_CODES = frozenset(
    (1048, 1264, 1265, 1292, 1366, 1367, 1406, 1441, 1690, 3140, 3819, 4025)
)
_COLUMN = (
    re.compile(r"for column `[^`]*`\.`[^`]*`\.`(\w+)`"),  # ... for column `db`.`table`.`col`
    re.compile(r"column '(\w+)'", re.IGNORECASE),  # Out of range value for column 'col'
    re.compile(r"CONSTRAINT `(?:\w+\.)?(\w+)` failed"),  # CONSTRAINT `table.col` failed
    re.compile(r"constraint failed: (?:\w+\.)?(\w+)"),  # SQLite: NOT NULL constraint failed: t.c
)


@dataclass(frozen=True)
class RefusedValue:
    """A value the database refused; ``column`` names it when the database said which."""

    column: str = ""


def refused_value(exc: BaseException) -> RefusedValue | None:
    """The refused value behind ``exc``, or None if ``exc`` is no such error."""
    if not isinstance(exc, DBAPIError) or exc.connection_invalidated:
        return None
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args else None
    message = str(orig)
    if isinstance(exc, DataError) or code in VALUE_ERROR_CODES or _sqlite_refusal(message):
        return RefusedValue(_column(message))
    return None


def _sqlite_refusal(message: str) -> bool:
    return message.startswith(("CHECK constraint failed", "NOT NULL constraint failed"))


def _column(message: str) -> str:
    for pattern in _COLUMN:
        found = pattern.search(message)
        if found:
            return found.group(1)
    return ""
