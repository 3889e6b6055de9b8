"""The PyInstaller build of the console: it builds, and the built program opens its window.

Builds ``build.spec`` into a temporary folder (about a minute of CPU; two on a busy
machine), then runs ``argos --demo --self-test`` from the bundle offscreen with a private
data directory: the demo database is created by the bundled Alembic migrations, the demo
superadmin signs in through the bundled argon2 backend, the window draws the bundled
icons and style sheet, and the program exits 0 once the first tree level has loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

readers = pytest.importorskip("PyInstaller.archive.readers")

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 180
# Imported by name at run time (URL scheme, CryptContext scheme, Alembic), so only the
# spec's hidden imports put them in the bundle.
LOADED_BY_NAME = (
    "pymysql",
    "sqlalchemy.dialects.mysql.pymysql",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "passlib.handlers.argon2",
    "argon2",
    "alembic.ddl.mysql",
    "alembic.ddl.sqlite",
)

pytestmark = pytest.mark.slow


def build(out: Path) -> Path:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level=WARN",
            "--distpath",
            str(out / "dist"),
            "--workpath",
            str(out / "work"),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out


def check_bundle(out: Path) -> None:
    modules = readers.ZlibArchiveReader(str(out / "work" / "build" / "PYZ-00.pyz")).toc
    assert [name for name in LOADED_BY_NAME if name not in modules] == []
    internal = out / "dist" / "argos" / "_internal"
    # pyqtgraph imports QtOpenGL with importlib; it is an extension module, not in the PYZ.
    assert list((internal / "PySide6").glob("QtOpenGL.*"))
    assert (internal / "argos_core" / "migrations" / "env.py").is_file()
    assert list((internal / "argos_core" / "migrations" / "versions").glob("*.py"))
    assert (internal / "argos_desktop" / "resources" / "styles" / "console.qss").is_file()
    assert list((internal / "argos_desktop" / "resources" / "icons").glob("*.svg"))
    assert "tornado" not in modules and "ingest_server" not in modules


def test_built_console_bundles_what_it_loads_by_name_and_opens_its_window(
    tmp_path: Path,
) -> None:
    # One test, not two sharing a fixture: under xdist each worker would build again.
    built = build(tmp_path / "pyinstaller")
    check_bundle(built)
    executable = built / "dist" / "argos" / ("argos.exe" if os.name == "nt" else "argos")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOS_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HOME=str(tmp_path),
        # No argos-ingest/argos-agent on PATH: the demo shows the seeded fleet only, as a
        # bundle shipped on its own would.
        PATH=os.defpath,
    )
    result = subprocess.run(
        [str(executable), "--demo", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "self-test: main window up" in result.stdout, output[-4000:]
    assert (tmp_path / "data" / "argos" / "demo.db").is_file()
