"""Signing in: wrong credentials, unreachable or wrong databases, remembered profiles."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from argos_core.bootstrap import bootstrap
from argos_core.scope import Principal
from argos_desktop.backend.direct import CLIENT_ADMIN_NEEDS_SERVER
from argos_desktop.connection import connect_session, database_label, without_password
from argos_desktop.login_dialog import LoginDialog
from argos_desktop.profiles import Profile, ProfileStore

PASSWORD = "correct-horse-2026"
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "console.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def database(fresh_database_url: str) -> str:
    services = bootstrap(fresh_database_url)
    services.users.create_superadmin("ops", PASSWORD, source="tests")
    services.close()
    return fresh_database_url


def dialog_for(qtbot, settings, url: str) -> LoginDialog:
    dialog = LoginDialog(settings, url, failure_delay_ms=150)
    qtbot.addWidget(dialog)
    return dialog


def sign_in(qtbot, dialog: LoginDialog, url: str, username: str, password: str) -> str:
    dialog.url_edit.setText(url)
    dialog.username_edit.setText(username)
    dialog.password_edit.setText(password)
    with qtbot.waitSignal(dialog.loginFailed, timeout=15_000) as failed:
        dialog.submit()
    return failed.args[0]


def test_wrong_password_is_refused_with_a_message_and_a_pause(qtbot, settings, database):
    dialog = dialog_for(qtbot, settings, database)
    message = sign_in(qtbot, dialog, database, "ops", "wrong-password-1")
    assert message == "Wrong username or password."
    assert dialog.error_label.text() == message and not dialog.error_label.isHidden()
    assert dialog.is_busy() and not dialog.sign_in_button.isEnabled()
    assert dialog.password_edit.text() == ""
    with qtbot.waitSignal(dialog.formUnlocked, timeout=5_000):
        pass
    assert dialog.sign_in_button.isEnabled()
    assert dialog.session is None


def test_right_password_signs_in_and_remembers_the_profile(qtbot, settings, database):
    dialog = dialog_for(qtbot, settings, database)
    dialog.profile_box.setCurrentText("Production")
    dialog.url_edit.setText(database)
    dialog.username_edit.setText("ops")
    dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.signedIn, timeout=15_000):
        dialog.submit()
    assert dialog.session.identity.is_superadmin
    dialog.session.backend.close()
    assert ProfileStore(settings).load() == [Profile("Production", database, "ops")]
    again = dialog_for(qtbot, settings, "sqlite:///elsewhere.db")
    assert again.url_edit.text() == database
    assert again.username_edit.text() == "ops"
    assert again.password_edit.text() == ""


def test_a_client_admin_with_a_database_url_is_sent_to_a_server(qtbot, settings, database):
    services = bootstrap(database)
    root = Principal("root", "superadmin", source="tests")
    tenant = services.orgs.create_tenant(root, "Acme").org_id
    services.users.create_user(
        root, username="acme-admin", password=PASSWORD, role="admin", scope_org_id=tenant
    )
    services.close()
    dialog = dialog_for(qtbot, settings, database)
    message = sign_in(qtbot, dialog, database, "acme-admin", PASSWORD)
    assert message == CLIENT_ADMIN_NEEDS_SERVER
    assert dialog.session is None


def test_unreachable_database_gives_a_clear_message(qtbot, settings):
    url = "mysql+pymysql://argos@127.0.0.1:1/argos"
    dialog = dialog_for(qtbot, settings, url)
    message = sign_in(qtbot, dialog, url, "ops", PASSWORD)
    assert message == "The database cannot be reached; check the address and that it is running."
    assert not dialog.is_busy()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "That is not a valid database URL."),
        ("postgresql://x@localhost/argos", "Unsupported database 'postgresql'"),
        ("sqlite:////nonexistent/dir/argos.db", "There is no Argos database at"),
    ],
)
def test_bad_database_urls_give_a_clear_message(qtbot, settings, url, expected):
    dialog = dialog_for(qtbot, settings, url)
    assert sign_in(qtbot, dialog, url, "ops", PASSWORD).startswith(expected)


def test_a_database_without_schema_says_what_to_do(qtbot, settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    (tmp_path / "empty.db").write_bytes(b"")
    dialog = dialog_for(qtbot, settings, url)
    assert "argos-admin db upgrade" in sign_in(qtbot, dialog, url, "ops", PASSWORD)


def test_profiles_never_store_a_password(settings):
    store = ProfileStore(settings)
    store.remember(Profile("Prod", "mysql+pymysql://argos:s3cret@db.example:3306/argos", "ops"))
    store.remember(Profile("Cloud", "https://argos.example:8443", "alice", "/etc/argos/ca.pem"))
    settings.sync()
    assert store.load() == [
        Profile("Cloud", "https://argos.example:8443", "alice", "/etc/argos/ca.pem"),
        Profile("Prod", "mysql+pymysql://argos@db.example:3306/argos", "ops"),
    ]
    assert [p.kind for p in store.load()] == ["server", "database"]
    with open(settings.fileName()) as handle:
        assert "s3cret" not in handle.read()


def test_profiles_saved_before_servers_existed_still_load(settings):
    settings.setValue(
        "login/profiles", '[{"name": "Old", "database_url": "sqlite:///a.db", "username": "ops"}]'
    )
    assert ProfileStore(settings).load() == [Profile("Old", "sqlite:///a.db", "ops")]


def test_the_address_given_on_the_command_line_wins_over_the_saved_profile(qtbot, settings):
    """Issue 16 item 3: the form showed the saved profile's database instead."""
    store = ProfileStore(settings)
    store.remember(Profile("Staging", "https://staging.example:8443", "bob"))
    store.remember(Profile("Prod", "sqlite:///prod.db", "ops"))
    wanted = "sqlite:///other-fleet.db"
    dialog = LoginDialog(settings, "sqlite:///default.db", preset_address=wanted)
    qtbot.addWidget(dialog)
    assert dialog.url_edit.text() == wanted
    assert dialog.profile_box.currentText() not in ("Prod", "Staging")
    assert dialog.username_edit.text() == ""

    known = LoginDialog(
        settings, "sqlite:///default.db", preset_address="https://staging.example:8443"
    )
    qtbot.addWidget(known)
    assert known.profile_box.currentText() == "Staging"
    assert (known.url_edit.text(), known.username_edit.text()) == (
        "https://staging.example:8443",
        "bob",
    )


def test_the_form_says_which_kind_of_address_it_holds(qtbot, settings):
    dialog = dialog_for(qtbot, settings, "sqlite:///a.db")
    dialog.show()
    qtbot.waitExposed(dialog)
    assert "superadmins" in dialog.kind_label.text()
    assert not dialog.ca_row.isVisible()
    dialog.url_edit.setText("https://argos.example:8443")
    assert dialog.kind_label.text().startswith("Signs in through the Argos server")
    assert dialog.ca_row.isVisible()
    dialog.url_edit.setText("http://127.0.0.1:8080")
    assert not dialog.ca_row.isVisible()


def test_database_labels_hide_passwords():
    assert without_password("mysql+pymysql://u:p@h:1/d") == "mysql+pymysql://u@h:1/d"
    assert database_label("mysql+pymysql://u:p@h:3306/argos") == "MariaDB/MySQL · u@h:3306/argos"
    assert database_label("sqlite:////home/x/argos.db") == "SQLite · argos.db"


def test_the_form_survives_any_number_of_failed_sign_ins_typed_with_enter(
    qtbot, settings, database
):
    """Issue 16: wrong password + Enter, then another + Enter, used to quit the console."""
    attempts: list[str] = []

    def counting(address: str, username: str, password: str, *more):
        attempts.append(password)
        return connect_session(address, username, password, *more)

    dialog = LoginDialog(settings, database, connect=counting, failure_delay_ms=150)
    qtbot.addWidget(dialog)
    closed: list[int] = []
    failures: list[str] = []
    dialog.finished.connect(closed.append)
    dialog.loginFailed.connect(failures.append)
    dialog.username_edit.setText("ops")
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    for n in range(3):
        qtbot.waitUntil(lambda: dialog.password_edit.hasFocus(), timeout=5_000)
        qtbot.keyClicks(QApplication.focusWidget(), f"wrong-password-{n}")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(closed) or len(failures) > n, timeout=15_000)  # noqa: B023
        assert closed == [], f"the sign-in form closed at failed attempt {n + 1}"
        qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=5_000)
    assert attempts == ["wrong-password-0", "wrong-password-1", "wrong-password-2"]
    qtbot.keyClicks(QApplication.focusWidget(), PASSWORD)
    with qtbot.waitSignal(dialog.signedIn, timeout=15_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    dialog.session.backend.close()


def test_the_form_does_not_move_when_its_error_clears(qtbot, settings, database):
    dialog = dialog_for(qtbot, settings, database)
    dialog.show()
    qtbot.waitExposed(dialog)
    sign_in(qtbot, dialog, database, "ops", "wrong-password-1")
    with qtbot.waitSignal(dialog.formUnlocked, timeout=5_000):
        pass
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=5_000)

    def places() -> list:
        widgets = (dialog.username_edit, dialog.password_edit, dialog.sign_in_button)
        return [w.mapTo(dialog, w.rect().topLeft()) for w in widgets]

    before = places()
    qtbot.keyClicks(dialog.password_edit, "x")  # typing clears the error
    assert dialog.error_label.isHidden()
    dialog.layout().activate()  # lay out now what hiding the error asked for
    assert places() == before
