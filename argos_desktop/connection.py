"""Opening a console session: an address and credentials in, ``ConsoleSession`` out.

An address is an Argos server (``http(s)://…``: the remote backend, for everyone) or a
database URL (the direct backend, superadmins only).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from argos_desktop.backend.direct import connect_direct
from argos_desktop.backend.remote import connect_remote, server_label
from argos_desktop.session import ConsoleSession

LOGIN_SOURCE = "console"


def is_server_address(address: str) -> bool:
    return urlsplit(address.strip()).scheme.lower() in ("http", "https")


def connect_session(
    address: str, username: str, password: str, ca_file: str = ""
) -> ConsoleSession:
    """Blocking: call it on a worker thread. Raises ``ArgosError`` subclasses with a message."""
    if is_server_address(address):
        remote, who = connect_remote(address, username, password, ca_file=ca_file or None)
        return ConsoleSession(remote, who, server_label(address), address.strip().rstrip("/"))
    direct, who = connect_direct(address, username, password, source=LOGIN_SOURCE)
    return ConsoleSession(direct, who, database_label(address))


def without_password(url: str) -> str:
    """The URL with any embedded password removed, fit to store or show."""
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host))


def database_label(url: str) -> str:
    """A short name for the status bar: the SQLite file, or user@host/database."""
    parts = urlsplit(url.strip())
    if parts.scheme.startswith("sqlite"):
        return f"SQLite · {parts.path.rsplit('/', 1)[-1] or 'memory'}"
    host = parts.hostname or "localhost"
    if parts.port:
        host = f"{host}:{parts.port}"
    who = f"{parts.username}@" if parts.username else ""
    kind = "MariaDB/MySQL" if parts.scheme.startswith(("mysql", "mariadb")) else parts.scheme
    return f"{kind} · {who}{host}{parts.path}"
