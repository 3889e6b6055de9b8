"""My sessions: a person sees where they are signed in and ends a session from the console,
over both backends; nobody ends another person's session."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from argos_core.access_tokens import AccessTokenSigner
from argos_core.errors import NotFound, SessionEnded
from argos_core.services.session_service import SessionService
from argos_desktop.admin.sessions_dialog import THIS_CONSOLE, SessionsDialog
from tests.gui.conftest import PASSWORD, ROOT

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")
ELSEWHERE = ("198.51.100.7", "198.51.100.8")


def sign_in_elsewhere(fleet, username: str, source: str) -> tuple[SessionService, str]:
    """A session of ``username`` opened on the server by some other console."""
    signer = AccessTokenSigner("s" * 40)
    sessions = SessionService(fleet.services.session_factory, fleet.services.users, signer)
    return sessions, signer.verify(
        sessions.login(username, PASSWORD, source=source).access_token
    ).session_id


def sessions_dialog(qtbot, console) -> SessionsDialog:
    dialog = SessionsDialog(console)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    return dialog


def test_a_person_lists_their_sessions_and_ends_one_elsewhere(qtbot, fleet):
    services, ids = None, []
    for source in ELSEWHERE:
        services, session_id = sign_in_elsewhere(fleet, ROOT.username, source)
        ids.append(session_id)
    console = fleet.sign_in(ROOT, PASSWORD)
    dialog = sessions_dialog(qtbot, console)

    listed = dialog.sessions.records()
    elsewhere = sorted(s.source for s in listed if not s.current)
    assert elsewhere == sorted(ELSEWHERE)
    current = [s for s in listed if s.current]
    # Over a server this console is a session of its own; straight on the database it is not.
    assert len(current) == (1 if fleet.server_url else 0)
    if current:
        assert dialog.select(current[0].session_id)
        assert not dialog.end_button.isEnabled()
        assert dialog.end_button.toolTip() == THIS_CONSOLE
        assert "this console" in dialog.sessions.index(0, 3).data(Qt.ItemDataRole.DisplayRole)

    assert dialog.select(ids[0])
    assert dialog.end_button.isEnabled()
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.end_button.click()
    assert ids[0] not in {s.session_id for s in dialog.sessions.records()}
    assert ids[1] in {s.session_id for s in dialog.sessions.records()}
    with pytest.raises(SessionEnded):
        services.principal(ids[0])
    assert services.principal(ids[1]).username == ROOT.username
    console.backend.close()


def test_nobody_ends_another_persons_session(qtbot, fleet):
    users = fleet.services.users
    users.create_user(
        ROOT,
        username="alpha-admin",
        password=PASSWORD,
        role="admin",
        scope_org_id=fleet.org["alpha"],
    )
    sessions, roots = sign_in_elsewhere(fleet, ROOT.username, ELSEWHERE[0])
    admin = fleet.sign_in(users.authenticate("alpha-admin", PASSWORD), PASSWORD)

    assert roots not in {s.session_id for s in admin.backend.list_own_sessions()}
    with pytest.raises(NotFound):
        admin.backend.end_own_session(roots)
    assert sessions.principal(roots).username == ROOT.username
    admin.backend.close()
