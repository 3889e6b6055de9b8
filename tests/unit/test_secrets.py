import time

import jwt
import pytest
from passlib.context import CryptContext

from argos_core import passwords, tokens
from argos_core.errors import AuthenticationFailed, ConfigurationError, ValidationError

KEY = "k" * 40


def test_password_hash_is_argon2_and_verifies():
    stored = passwords.hash_password("Correct-horse-9")
    assert stored.startswith("$argon2")
    assert "Correct-horse-9" not in stored
    assert passwords.verify_password("Correct-horse-9", stored) == (True, None)
    assert passwords.verify_password("wrong", stored)[0] is False


def test_old_hashes_are_upgraded_on_verification():
    legacy = CryptContext(schemes=["pbkdf2_sha256"]).hash("Correct-horse-9")
    ok, new_hash = passwords.verify_password("Correct-horse-9", legacy)
    # pbkdf2 is not in our context, so it is unknown, not silently accepted
    assert ok is False and new_hash is None
    weak = CryptContext(schemes=["argon2"], argon2__time_cost=1, argon2__memory_cost=1024)
    ok, new_hash = passwords.verify_password("Correct-horse-9", weak.hash("Correct-horse-9"))
    assert ok is True
    assert new_hash is not None and new_hash.startswith("$argon2")


@pytest.mark.parametrize("weak", ["short1A", "alllowercaseletters", " " * 12, "x" * 300])
def test_password_policy_refuses_weak_passwords(weak):
    with pytest.raises(ValidationError):
        passwords.check_policy(weak)


@pytest.mark.parametrize("common", ["password12", "qwertyuiop1", "Password2026!", "1234567890ab"])
def test_password_policy_refuses_common_passwords(common):
    with pytest.raises(ValidationError, match="too common"):
        passwords.check_policy(common)


def test_password_policy_refuses_the_username_inside_the_password():
    with pytest.raises(ValidationError, match="username"):
        passwords.check_policy("Berlin.Ops-2026", "berlin.ops")
    passwords.check_policy("Berlin.Ops-2026", "alice")


def test_password_policy_accepts_reasonable_password():
    passwords.check_policy("correct-horse-battery")


def test_token_round_trip_carries_agent_id_issuer_and_expiry():
    signer = tokens.TokenSigner(KEY, ttl_s=60)
    token = signer.issue("agent-uuid")
    claims = jwt.decode(token, KEY, algorithms=["HS256"], issuer="argos")
    assert claims["sub"] == "agent-uuid"
    assert claims["exp"] - claims["iat"] == 60
    assert signer.verify(token) == "agent-uuid"


def test_expired_forged_and_garbage_tokens_are_refused():
    signer = tokens.TokenSigner(KEY, ttl_s=10)
    expired = signer.issue("a", now=time.time() - 3600)
    forged = tokens.TokenSigner("z" * 40).issue("a")
    none_alg = jwt.encode(
        {"sub": "a", "iss": "argos", "iat": 1, "exp": 2**40}, key=None, algorithm="none"
    )
    for token in (expired, forged, none_alg, "garbage", ""):
        with pytest.raises(AuthenticationFailed):
            signer.verify(token)


def test_short_secret_keys_are_refused():
    with pytest.raises(ConfigurationError):
        tokens.TokenSigner("short")


def test_machine_secrets_are_stored_as_digests_and_compared_safely():
    secret = tokens.new_machine_secret()
    digest = tokens.digest_secret(secret)
    assert len(secret) >= 40 and secret not in digest and len(digest) == 64
    assert tokens.secrets_match(secret, digest)
    assert not tokens.secrets_match(secret + "x", digest)
