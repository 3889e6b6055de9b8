"""Shared set-up of the administration GUI tests: one fleet per module with a company admin
and a company viewer (scoped to Alpha Corp), a real superadmin, and helpers to drive forms.

Every test runs over both backends: ``direct`` (the services on the database) and ``remote``
(signed in to a real Argos server on 127.0.0.1, started per module on the same database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QAbstractButton

from argos_core.scope import Principal
from argos_desktop.main_window import MainWindow
from argos_desktop.session import ConsoleSession
from tests.databases import scratch_database
from tests.gui.conftest import (
    CONSOLE_BACKENDS,
    PASSWORD,
    ROOT,
    FakeDetailPane,
    Fleet,
    build_fleet,
    console_server,
)


@pytest.fixture(scope="module", params=CONSOLE_BACKENDS)
def admin_fleet(
    request: pytest.FixtureRequest, db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fleet]:
    with scratch_database(db_backend, tmp_path_factory.mktemp("admin")) as url:
        fleet = build_fleet(url)
        users = fleet.services.users
        alpha = fleet.org["alpha"]
        users.create_user(
            ROOT, username="alpha-admin", password=PASSWORD, role="admin", scope_org_id=alpha
        )
        users.create_user(
            ROOT, username="alpha-viewer", password=PASSWORD, role="viewer", scope_org_id=alpha
        )
        users.create_user(
            ROOT,
            username="zeta-admin",
            password=PASSWORD,
            role="admin",
            scope_org_id=fleet.org["zeta"],
        )
        with console_server(fleet, request.param):
            yield fleet
        fleet.services.close()


@pytest.fixture(scope="module")
def people(admin_fleet: Fleet) -> dict[str, Principal]:
    users = admin_fleet.services.users
    return {
        "root": ROOT,
        "admin": users.authenticate("alpha-admin", PASSWORD, source="tests"),
        "viewer": users.authenticate("alpha-viewer", PASSWORD, source="tests"),
    }


def session(fleet: Fleet, principal: Principal) -> ConsoleSession:
    """``principal``'s console session over the module's backend (all passwords: PASSWORD)."""
    return fleet.sign_in(principal, PASSWORD)


def open_window(qtbot, fleet: Fleet, principal: Principal, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        session(fleet, principal), settings, refresh_timer=QTimer(), detail_factory=FakeDetailPane
    )
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.fleet.model.pageLoaded, timeout=10_000):
        window.start()
    return window


def select(qtbot, window: MainWindow, path: list[str], key: str):
    """Show ``key`` (under the org ids in ``path``) in the tree and make it current."""
    fleet = window.fleet
    if not fleet.select_key(key):
        with qtbot.waitSignal(fleet.model.revealed, timeout=10_000):
            fleet.reveal(path, key)
    index = fleet.model.index_for_key(key)
    assert fleet.tree.currentIndex() == index
    return index


def click(qtbot, button: QAbstractButton) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def submit_ok(qtbot, dialog) -> None:
    with qtbot.waitSignal(dialog.succeeded, timeout=10_000):
        click(qtbot, dialog.ok_button)


def submit_refused(qtbot, dialog) -> str:
    """Click the primary button; the service (or the form) refuses; return the inline text."""
    with qtbot.waitSignal(dialog.failed, timeout=10_000) as refused:
        click(qtbot, dialog.ok_button)
    assert dialog.message.isVisible()
    assert dialog.error_text() == refused.args[0]
    return refused.args[0]


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.fleet.model.is_loading(), timeout=10_000)
