"""Where Argos finds its database and secrets: flag, then environment, then a local default."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "argos"
DATABASE_URL_ENV = "ARGOS_DATABASE_URL"
SECRET_KEY_ENV = "ARGOS_SECRET_KEY"
DEFAULT_REPORT_INTERVAL_S = 30
DEFAULT_OVERDUE_AFTER_S = 30 * 60
STATUS_GRACE_S = 15


def data_dir() -> Path:
    """The user's Argos directory (embedded database, secret key), private to its owner:
    created 0700, and tightened to 0700 if an earlier version left it open to others."""
    path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        with contextlib.suppress(PermissionError):  # someone else's: not ours to change
            path.chmod(0o700)
    return path


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'argos.db'}"


def resolve_database_url(flag: str | None = None) -> str:
    """The flag wins, then ``ARGOS_DATABASE_URL``, then the embedded SQLite file."""
    if flag:
        return flag
    return os.environ.get(DATABASE_URL_ENV) or default_database_url()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def resolve_secret_key(database_url: str) -> str | None:
    """The signing key: ``ARGOS_SECRET_KEY``, or for SQLite a key kept beside the data.

    Production (MySQL) deployments must set the variable so every ingest host shares it;
    the embedded mode generates one once and keeps it in the user data directory.
    """
    key = os.environ.get(SECRET_KEY_ENV)
    if key:
        return key
    if not is_sqlite(database_url):
        return None
    path = data_dir() / "secret.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


@dataclass(frozen=True)
class StatusPolicy:
    """Thresholds that turn ``last_seen`` into an agent status (PROTOCOL.md, Agent status)."""

    report_interval_s: int = DEFAULT_REPORT_INTERVAL_S
    overdue_after_s: int = DEFAULT_OVERDUE_AFTER_S
    grace_s: int = STATUS_GRACE_S

    @property
    def online_window_s(self) -> int:
        return 2 * self.report_interval_s + self.grace_s
