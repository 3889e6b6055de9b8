"""Human passwords: argon2 through passlib, slow on purpose; old hashes upgrade on login."""

from __future__ import annotations

from passlib.context import CryptContext

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


def check_policy(password: str) -> None:
    """The minimum policy: long enough, not all one kind of character, not blank."""
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
