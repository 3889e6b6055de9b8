"""The console's top level: signing out returns to the sign-in form; the console stays up."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from argos_core.errors import SessionEnded
from argos_desktop import app as app_module
from argos_desktop.app import Console, parse_args
from tests.gui.conftest import Fleet, session_for

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def console(qtbot, tmp_path, monkeypatch) -> Console:
    monkeypatch.setattr(app_module, "freeze_startup_objects", lambda: None)
    console = Console(QApplication.instance(), parse_args(["--database-url", "sqlite:///x.db"]))
    console.settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    yield console
    for widget in (console.window, console.login):
        if widget is not None:
            widget.blockSignals(True)  # a rejected sign-in form would quit the application
            widget.close()
            widget.deleteLater()


def test_sign_out_goes_back_to_the_sign_in_form(qtbot, console: Console, shared_fleet: Fleet):
    console.open_window(session_for(shared_fleet))
    window = console.window
    qtbot.waitExposed(window)
    quits: list[bool] = []
    QApplication.instance().aboutToQuit.connect(lambda: quits.append(True))
    window.sign_out_action.trigger()
    assert console.window is None and console.session is None
    assert console.login is not None and console.login.isVisible()
    assert console.login.url_edit.text() == "sqlite:///x.db", "the command line still wins"
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)
    assert quits == []


class _SignedOutElsewhere:
    """A backend whose session the server has ended (as RemoteBackend reports it)."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name: str):
        def ended(*_args, **_kwargs):
            raise SessionEnded("You were signed out on another device.")

        return ended if name != "close" else self._inner.close


def test_a_session_ended_on_the_server_returns_to_sign_in_saying_why(
    qtbot, console: Console, shared_fleet: Fleet
):
    session = session_for(shared_fleet)
    session.backend = _SignedOutElsewhere(session.backend)
    console.open_window(session)
    qtbot.waitUntil(lambda: console.login is not None and console.login.isVisible(), timeout=10_000)
    assert console.window is None
    assert console.login.error_label.text() == (
        "You were signed out on another device. Sign in again to go on."
    )
