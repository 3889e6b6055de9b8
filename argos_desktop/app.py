"""``argos``: the desktop console. ``argos --demo``: the zero set-up showcase."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from argos_core.demo import DemoDatabase, prepare_demo
from argos_core.settings import data_dir, resolve_database_url
from argos_desktop import icons
from argos_desktop.demo_mode import (
    DemoProcesses,
    DemoStart,
    open_demo_directly,
    sign_in_through_server,
)
from argos_desktop.heap import freeze_startup_objects
from argos_desktop.log_file import start_log_file
from argos_desktop.login_dialog import LoginDialog
from argos_desktop.main_window import SETTINGS_THEME, MainWindow
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.theme import ThemeManager
from argos_desktop.workers import run_in_pool, session_ended

ORGANIZATION = "Argos"
APPLICATION = "Argos Console"
SELF_TEST_TIMEOUT_MS = 60_000
SHUTDOWN_WAIT_MS = 5_000


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="argos", description="Argos desktop console.")
    parser.add_argument(
        "--server",
        help="Argos server to sign in to, e.g. https://argos.example.com:8443"
        " (wins over the remembered profile)",
    )
    parser.add_argument(
        "--ca-file",
        help="PEM file of the CA that signed the server's certificate (default: system trust)",
    )
    parser.add_argument(
        "--database-url",
        help="superadmins: open this database directly (wins over the remembered profile;"
        " default: ARGOS_DATABASE_URL, else the embedded SQLite file)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="seeded demo database, local ingest server and simulated agents",
    )
    parser.add_argument(
        "--theme",
        choices=("light", "dark"),
        help="force a colour scheme instead of following the system",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="open the main window, wait for the first tree load, exit 0",
    )
    return parser.parse_args(argv)


class Console:
    """Owns the application's top-level objects for the lifetime of the process."""

    def __init__(
        self, app: QApplication, args: argparse.Namespace, themes: ThemeManager | None = None
    ) -> None:
        self.app = app
        self.args = args
        self.themes = themes
        self.settings = QSettings(ORGANIZATION, APPLICATION)
        self.window: MainWindow | None = None
        self.demo: DemoProcesses | None = None
        self.session: ConsoleSession | None = None
        self.splash: QWidget | None = None
        self.login: LoginDialog | None = None
        app.aboutToQuit.connect(self.shutdown)
        session_ended().connect(self._session_ended)

    def run(self) -> int:
        if self.args.demo:
            self._start_demo()
        else:
            self.show_sign_in()
        return self.app.exec()

    def show_sign_in(self, reason: str = "") -> None:
        """The sign-in form; ``reason`` says why it is back (e.g. the session ended)."""
        self.login = LoginDialog(
            self.settings,
            resolve_database_url(None),
            preset_address=self.args.server or self.args.database_url or "",
            preset_ca_file=self.args.ca_file or "",
        )
        self.login.signedIn.connect(self.open_window)
        self.login.rejected.connect(self.app.quit)
        if reason:
            self.login.show_reason(reason)
        self.login.show()

    def _start_demo(self) -> None:
        self.splash = _splash(
            "Preparing the demo fleet…",
            "First start seeds a demo database; this takes a few seconds.",
        )
        self.splash.show()
        url = self.args.database_url
        run_in_pool(lambda: prepare_demo(url), self._demo_prepared, self._demo_failed)

    def _demo_prepared(self, database: DemoDatabase) -> None:
        self.demo = DemoProcesses()
        port = self.demo.start_server(database)
        if not port:
            run_in_pool(lambda: open_demo_directly(database), self._demo_ready, self._demo_failed)
            return

        def directly(exc: BaseException) -> None:
            note = f"Demo: {user_message(exc)} Reading the database directly instead."
            run_in_pool(
                lambda: open_demo_directly(database, note), self._demo_ready, self._demo_failed
            )

        run_in_pool(lambda: sign_in_through_server(database, port), self._demo_ready, directly)

    def _demo_ready(self, start: DemoStart) -> None:
        self.open_window(start.session)
        self.demo.note.connect(self.window.set_demo_note)
        self.demo.attach(start)

    def _demo_failed(self, exc: BaseException) -> None:
        if self.splash is not None:
            self.splash.close()
        QMessageBox.critical(None, "Argos demo", f"The demo could not start: {user_message(exc)}")
        self.app.exit(1)

    def open_window(self, session: ConsoleSession) -> None:
        self.session = session
        self.window = MainWindow(session, self.settings, themes=self.themes)
        self.window.signOutRequested.connect(self.end_session)
        self.window.show()
        if self.splash is not None:
            self.splash.close()
            self.splash = None
        if self.args.self_test:
            self.window.fleet.model.pageLoaded.connect(lambda _i: self._self_test_passed())
            QTimer.singleShot(SELF_TEST_TIMEOUT_MS, lambda: self.app.exit(1))
        freeze_startup_objects()
        self.window.start()

    def end_session(self, reason: str = "") -> None:
        """Close the window and its backend; back to the sign-in form, saying ``reason``."""
        window, session = self.window, self.session
        self.window = self.session = None
        self.show_sign_in(reason)  # shown before the window closes, so the console stays up
        if window is not None:
            window.close()
            window.deleteLater()
        if session is not None:
            run_in_pool(session.backend.close, lambda _r: None)  # may talk to the server

    def _session_ended(self, message: str) -> None:
        if self.window is not None:
            self.end_session(f"{message} Sign in again to go on.")

    def _self_test_passed(self) -> None:
        platform = QApplication.platformName()
        nodes = self.window.fleet.model.rowCount()
        print(f"self-test: main window up on {platform}, {nodes} top-level nodes", flush=True)
        QTimer.singleShot(0, self.app.quit)

    def shutdown(self) -> None:
        if self.demo is not None:
            self.demo.stop()
        if self.window is not None:
            self.window.timer.stop()
            self.window.save_settings()
        QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
        if self.session is not None:
            self.session.backend.close()


def _splash(title: str, detail: str) -> QWidget:
    widget = QWidget(None, Qt.WindowType.SplashScreen)
    widget.setObjectName("loginHeader")
    logo = QLabel()
    logo.setPixmap(icons.app_icon().pixmap(56, 56))
    logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
    heading = QLabel(title, objectName="loginTitle", alignment=Qt.AlignmentFlag.AlignCenter)
    note = QLabel(detail, objectName="loginSubtitle", alignment=Qt.AlignmentFlag.AlignCenter)
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setFixedHeight(6)
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(32, 24, 32, 24)
    layout.setSpacing(10)
    for child in (logo, heading, note, bar):
        layout.addWidget(child)
    widget.resize(440, 200)
    return widget


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    start_log_file(data_dir())
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setWindowIcon(icons.app_icon())
    saved = str(QSettings(ORGANIZATION, APPLICATION).value(SETTINGS_THEME, "") or "")
    saved = saved if saved in ("light", "dark") else ""
    themes = ThemeManager(app, forced=args.theme or saved or None)  # the flag wins
    _quit_on_signals(app)
    return Console(app, args, themes).run()


def _quit(app: QApplication) -> None:
    for widget in app.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.done(QDialog.DialogCode.Rejected)
    app.quit()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C or a TERM/HUP quits cleanly, so the demo's child processes are stopped too."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: _quit(app))
    # Python runs signal handlers only between bytecodes: let it in regularly.
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


if __name__ == "__main__":
    sys.exit(main())
