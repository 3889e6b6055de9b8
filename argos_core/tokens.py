"""Agent tokens (PyJWT, HS256) and machine secrets (random, stored as SHA-256 digests)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt

from argos_core.errors import AuthenticationFailed, ConfigurationError

ISSUER = "argos"
ALGORITHM = "HS256"
DEFAULT_TOKEN_TTL_S = 30 * 24 * 3600
MIN_SECRET_KEY_LENGTH = 32
EPOCH_CLAIM = "epoch"


@dataclass(frozen=True)
class AgentClaims:
    agent_uuid: str
    expires_at: float
    epoch: int


@dataclass(frozen=True)
class TokenSigner:
    secret_key: str
    ttl_s: int = DEFAULT_TOKEN_TTL_S

    def __post_init__(self) -> None:
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"ARGOS_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long."
            )

    def issue(self, agent_uuid: str, now: float | None = None, *, epoch: int = 0) -> str:
        """A token for the agent's current enrollment: ``epoch`` is the agent's
        ``token_epoch``, which each re-enrollment raises (tokens of earlier epochs stop
        working)."""
        issued = int(now if now is not None else time.time())
        claims = {"sub": agent_uuid, "iat": issued, "exp": issued + self.ttl_s, "iss": ISSUER}
        if epoch:
            claims[EPOCH_CLAIM] = epoch
        return jwt.encode(claims, self.secret_key, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """Return the agent uuid the token was issued to, or raise ``AuthenticationFailed``."""
        return self.verify_claims(token).agent_uuid

    def verify_claims(self, token: str) -> AgentClaims:
        """The claims of a valid token (callers may cache them until it expires)."""
        try:
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationFailed("The token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed("The token is not valid.") from exc
        subject, expires_at = claims["sub"], claims["exp"]
        epoch = claims.get(EPOCH_CLAIM, 0)  # tokens issued before epochs existed: epoch 0
        if (
            not isinstance(subject, str)
            or not subject
            or not isinstance(expires_at, int | float)
            or type(epoch) is not int
        ):
            raise AuthenticationFailed("The token is not valid.")
        return AgentClaims(subject, expires_at, epoch)


MACHINE_SECRET_PREFIX = "argos_"


def new_machine_secret() -> str:
    """A long random secret that never begins with ``-``.

    A bare ``token_urlsafe`` starts with ``-`` once in 64: on a command line
    (``--enrollment-key -XSA…``) it reads as an option and the agent refuses to start.
    The prefix also lets secret scanners recognise leaked keys.
    """
    return MACHINE_SECRET_PREFIX + secrets.token_urlsafe(32)


def digest_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secrets_match(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest_secret(secret), stored_digest)
