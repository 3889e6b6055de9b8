"""The login lockout holds when guesses arrive in parallel (issue 9: read-modify-write race)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from argos_core import passwords
from argos_core.bootstrap import bootstrap
from argos_core.errors import AuthenticationFailed
from argos_core.services.user_service import FREE_FAILURES, LOGIN_REFUSED, UserService

PASSWORD = "Correct-horse-9"
THREADS = 10
GUESSES_EACH = 3


def test_parallel_wrong_guesses_check_at_most_five_passwords(fresh_database_url, monkeypatch):
    services = bootstrap(fresh_database_url, pool_size=THREADS)
    try:
        # The lock must outlast this slow run (argon2 on a shared machine) whatever its pace.
        users = UserService(services.session_factory, first_lockout=timedelta(hours=1))
        users.create_superadmin("target", PASSWORD)
        checked: list[str] = []
        real_verify = passwords.verify_password

        def counting_verify(password: str, password_hash: str) -> tuple[bool, str | None]:
            checked.append(password)
            return real_verify(password, password_hash)

        monkeypatch.setattr(passwords, "verify_password", counting_verify)
        start = threading.Barrier(THREADS)
        messages: list[str] = []

        def guess(worker: int) -> None:
            start.wait(timeout=30)
            for n in range(GUESSES_EACH):
                with pytest.raises(AuthenticationFailed) as caught:
                    users.authenticate("target", f"wrong-{worker}-{n}-guess")
                messages.append(str(caught.value))

        threads = [threading.Thread(target=guess, args=(w,)) for w in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
            assert not t.is_alive()
        assert len(messages) == THREADS * GUESSES_EACH
        assert set(messages) == {LOGIN_REFUSED}
        assert len(checked) == FREE_FAILURES
        checked.clear()
        with pytest.raises(AuthenticationFailed, match=LOGIN_REFUSED):
            users.authenticate("target", PASSWORD)
        assert checked == []  # locked: not even the right password is checked
    finally:
        services.close()
