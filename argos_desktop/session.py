"""The logged-in console session: the core services and who is using them."""

from __future__ import annotations

from dataclasses import dataclass

from argos_core.bootstrap import Services
from argos_core.scope import Principal


@dataclass
class ConsoleSession:
    """Everything a view needs to fetch data: call ``services.*`` with ``principal``.

    Views and item models only ever see the plain dataclasses the services return.
    """

    services: Services
    principal: Principal
    database_label: str

    @property
    def username(self) -> str:
        return self.principal.username
