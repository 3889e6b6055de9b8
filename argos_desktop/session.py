"""The signed-in console session: a backend, who is using it, and where it leads."""

from __future__ import annotations

from dataclasses import dataclass

from argos_desktop.backend.protocol import ConsoleBackend, Identity


@dataclass
class ConsoleSession:
    """Everything a view needs: call ``backend.*``; ask ``identity`` what to offer.

    Views and item models only ever see the plain dataclasses the backend returns.
    ``label`` names the server or database for the title and status bars; ``server_url`` is
    the Argos server the session goes through (agents report to the same address), empty
    when the console reads a database directly.
    """

    backend: ConsoleBackend
    identity: Identity
    label: str
    server_url: str = ""

    @property
    def username(self) -> str:
        return self.identity.username
