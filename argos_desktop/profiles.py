"""Connection profiles remembered between runs (QSettings). Never holds a password.

A profile leads either to an Argos server (``https://…``: how client admins work) or straight
to a database (a database URL: superadmins on the operator's side only).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from PySide6.QtCore import QSettings

from argos_desktop.connection import is_server_address, without_password

PROFILES_KEY = "login/profiles"
LAST_KEY = "login/last_profile"


@dataclass(frozen=True)
class Profile:
    name: str
    address: str
    username: str
    ca_file: str = ""

    @property
    def kind(self) -> Literal["server", "database"]:
        return "server" if is_server_address(self.address) else "database"


class ProfileStore:
    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def load(self) -> list[Profile]:
        raw = self._settings.value(PROFILES_KEY, "[]")
        try:
            items = json.loads(raw if isinstance(raw, str) else "[]")
            return [
                Profile(
                    str(i["name"]),
                    # Profiles saved before servers existed name their database_url.
                    str(i.get("address") or i["database_url"]),
                    str(i["username"]),
                    str(i.get("ca_file") or ""),
                )
                for i in items
            ]
        except (ValueError, KeyError, TypeError, AttributeError):
            return []

    def last_name(self) -> str:
        return str(self._settings.value(LAST_KEY, "") or "")

    def remember(self, profile: Profile) -> Profile:
        """Store (or replace by name) the profile, minus any password in its address."""
        clean = Profile(
            profile.name.strip() or "Default",
            without_password(profile.address),
            profile.username.strip(),
            profile.ca_file.strip() if profile.kind == "server" else "",
        )
        profiles = [p for p in self.load() if p.name != clean.name]
        profiles.insert(0, clean)
        self._settings.setValue(PROFILES_KEY, json.dumps([asdict(p) for p in profiles]))
        self._settings.setValue(LAST_KEY, clean.name)
        self._settings.sync()
        return clean
