"""Access tokens of people (console API): short-lived JWTs naming a session.

They carry an audience of their own, so an agent token is never accepted where a person's is
expected, and the agent API (which accepts no audience) refuses a person's token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from argos_core.errors import AuthenticationFailed, ConfigurationError
from argos_core.tokens import ALGORITHM, ISSUER, MIN_SECRET_KEY_LENGTH

CONSOLE_AUDIENCE = "argos-console"
ACCESS_TOKEN_TTL_S = 15 * 60
EXPIRED = "The access token has expired; refresh it."


@dataclass(frozen=True)
class AccessClaims:
    username: str
    session_id: str
    expires_at: float


@dataclass(frozen=True)
class AccessTokenSigner:
    secret_key: str
    ttl_s: int = ACCESS_TOKEN_TTL_S

    def __post_init__(self) -> None:
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"ARGOS_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters long."
            )
        if not 0 < self.ttl_s <= ACCESS_TOKEN_TTL_S:
            raise ConfigurationError(
                f"Access tokens live at most {ACCESS_TOKEN_TTL_S} seconds (got {self.ttl_s})."
            )

    def issue(self, username: str, session_id: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "sub": username,
            "sid": session_id,
            "aud": CONSOLE_AUDIENCE,
            "iss": ISSUER,
            "iat": issued,
            "exp": issued + self.ttl_s,
        }
        return jwt.encode(claims, self.secret_key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid, unexpired console token, or ``AuthenticationFailed``."""
        try:
            claims = jwt.decode(
                token,
                self.secret_key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=CONSOLE_AUDIENCE,
                options={"require": ["sub", "sid", "aud", "exp", "iat", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationFailed(EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed("The access token is not valid.") from exc
        username, session_id = claims["sub"], claims["sid"]
        if not isinstance(username, str) or not isinstance(session_id, str):
            raise AuthenticationFailed("The access token is not valid.")
        return AccessClaims(username, session_id, float(claims["exp"]))
