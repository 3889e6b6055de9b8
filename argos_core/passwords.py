"""Human passwords: argon2 through passlib, slow on purpose; old hashes upgrade on login.

The policy refuses short passwords, the 30,000 most common ones (the list zxcvbn ships, also
with digits or symbols added before or after) and passwords that contain the username.
"""

from __future__ import annotations

from functools import cache

from passlib.context import CryptContext
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from argos_core.errors import ValidationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

_context = CryptContext(schemes=["argon2"], deprecated="auto")


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Return ``(ok, new_hash)``; ``new_hash`` is set when the stored hash should be replaced."""
    try:
        return _context.verify_and_update(password, password_hash)
    except (ValueError, TypeError):
        return False, None


def dummy_verify() -> None:
    """Spend the time a real check takes so unknown usernames cannot be told apart by timing."""
    _context.dummy_verify()


def check_policy(password: str, username: str | None = None) -> None:
    """Long enough, not blank, two kinds of characters, not a common password, not the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(f"Passwords may have at most {MAX_PASSWORD_LENGTH} characters.")
    if not password.strip():
        raise ValidationError("Passwords cannot be only whitespace.")
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        raise ValidationError(
            "Passwords need at least two of: lower case, upper case, digits, symbols."
        )
    if is_common(password):
        raise ValidationError("This password is too common; choose one that is hard to guess.")
    name = (username or "").strip().casefold()
    if name and name in password.casefold():
        raise ValidationError("Passwords cannot contain the username.")


def is_common(password: str) -> bool:
    """Whether the password, or its core without leading/trailing digits and symbols, is common."""
    folded = password.casefold()
    core = folded.strip("0123456789!@#$%^&*()-_=+.,;:?~ ")
    common = _common_passwords()
    return folded in common or core in common or len(core) < 4


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])
