"""Connection profiles remembered between runs (QSettings). Never holds a password."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from PySide6.QtCore import QSettings

from argos_desktop.connection import without_password

PROFILES_KEY = "login/profiles"
LAST_KEY = "login/last_profile"


@dataclass(frozen=True)
class Profile:
    name: str
    database_url: str
    username: str


class ProfileStore:
    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def load(self) -> list[Profile]:
        raw = self._settings.value(PROFILES_KEY, "[]")
        try:
            items = json.loads(raw if isinstance(raw, str) else "[]")
            return [
                Profile(str(i["name"]), str(i["database_url"]), str(i["username"])) for i in items
            ]
        except (ValueError, KeyError, TypeError):
            return []

    def last_name(self) -> str:
        return str(self._settings.value(LAST_KEY, "") or "")

    def remember(self, profile: Profile) -> Profile:
        """Store (or replace by name) the profile, minus any password in its URL."""
        clean = Profile(
            profile.name.strip() or "Default",
            without_password(profile.database_url),
            profile.username.strip(),
        )
        profiles = [p for p in self.load() if p.name != clean.name]
        profiles.insert(0, clean)
        self._settings.setValue(PROFILES_KEY, json.dumps([asdict(p) for p in profiles]))
        self._settings.setValue(LAST_KEY, clean.name)
        self._settings.sync()
        return clean
