"""The layering of ARCHITECTURE.md, checked on every test run."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_core_never_imports_qt_or_tornado_even_lazily():
    assert not _imports("argos_core") & {
        "PySide6",
        "pyqtgraph",
        "tornado",
        "argos_desktop",
        "ingest_server",
        "argos_agent",
    }


def test_console_never_imports_sqlalchemy_even_lazily():
    assert not _imports("argos_desktop") & {"sqlalchemy", "tornado", "ingest_server", "pymysql"}
