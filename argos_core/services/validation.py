"""Input rules shared by every entry point (CLI, HTTP, dialogs)."""

from __future__ import annotations

import re
import unicodedata

from argos_core.errors import ValidationError
from argos_core.models import NAME_MAX, USERNAME_MAX

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")


def clean_name(raw: str | None, what: str = "Name") -> str:
    """Trim and check a display name: not blank, not too long, no control characters."""
    name = unicodedata.normalize("NFC", (raw or "").strip())
    if not name:
        raise ValidationError(f"{what} cannot be empty.")
    if len(name) > NAME_MAX:
        raise ValidationError(f"{what} may have at most {NAME_MAX} characters (got {len(name)}).")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValidationError(f"{what} cannot contain control characters.")
    return name


def clean_username(raw: str | None) -> str:
    username = (raw or "").strip()
    if not _USERNAME.match(username):
        raise ValidationError(
            f"Usernames are 3 to {USERNAME_MAX} characters: letters, digits and . _ @ -,"
            " starting with a letter or digit."
        )
    return username
