"""Where new agents are told to report: the server this console uses, or what the user typed.

Agents and people use the same Argos server (one port), so over a server the address the
console signed in to is the right default. A console on a database directly does not know
the server's address: it guesses ``http://<this host>:8080``. Either way, an address the
user typed instead (e.g. the public name behind a load balancer) is remembered per
connection and suggested the next time.
"""

from __future__ import annotations

import json
import socket

from PySide6.QtCore import QSettings

from argos_desktop.session import ConsoleSession

SETTINGS_KEY = "enrollment/agent_server_urls"
GUESSED_PORT = 8080
REMEMBERED_AT_MOST = 20


def guessed_server_url() -> str:
    return f"http://{socket.gethostname()}:{GUESSED_PORT}"


class AgentServerAddress:
    """The suggestion for one console session, and the memory of what was typed instead."""

    def __init__(self, settings: QSettings, session: ConsoleSession) -> None:
        self._settings = settings
        self.default = session.server_url or guessed_server_url()
        self._connection = session.server_url or session.label

    def suggested(self) -> str:
        return self._typed().get(self._connection) or self.default

    def remember(self, typed: str) -> None:
        """Keep ``typed`` for this connection; the default (or nothing) forgets it."""
        typed = typed.strip()
        remembered = self._typed()
        remembered.pop(self._connection, None)
        if typed and typed != self.default:
            remembered[self._connection] = typed
        newest = list(remembered.items())[-REMEMBERED_AT_MOST:]
        self._settings.setValue(SETTINGS_KEY, json.dumps(dict(newest)))

    def _typed(self) -> dict[str, str]:
        raw = self._settings.value(SETTINGS_KEY, "{}")
        try:
            loaded = json.loads(raw if isinstance(raw, str) else "{}")
        except ValueError:
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {str(k): str(v) for k, v in loaded.items() if isinstance(v, str)}
