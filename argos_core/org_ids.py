"""Org ids: short codes people read aloud, e.g. when installing an agent into a branch."""

from __future__ import annotations

import re
import secrets

from argos_core.errors import UnknownOrgId

# Upper-case letters and digits without look-alikes (0/O, 1/I/L).
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DEFAULT_LENGTH = 6
MIN_LENGTH, MAX_LENGTH = 5, 8
_PATTERN = re.compile(f"^[{ALPHABET}]{{{MIN_LENGTH},{MAX_LENGTH}}}$")


def generate(length: int = DEFAULT_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(raw: str) -> str:
    """Accept what people type (lower case, surrounding spaces); refuse anything else."""
    candidate = (raw or "").strip().upper()
    if not _PATTERN.match(candidate):
        raise UnknownOrgId(raw.strip() if raw else "")
    return candidate
