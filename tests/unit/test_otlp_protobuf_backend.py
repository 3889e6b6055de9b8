"""The ingest server says so in its log when protobuf runs in pure Python (OTLP then costs
about 20 times the CPU per sample), and is quiet with the default upb backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NOTE = "protobuf runs in pure Python"


def start_and_fail(tmp_path: Path, env: dict[str, str]) -> str:
    """``argos-ingest`` on a database it cannot open: it logs at start, then exits 1."""
    unusable = tmp_path / "missing" / "argos.db"
    result = subprocess.run(
        [sys.executable, "-m", "ingest_server.main", "--database-url", f"sqlite:///{unusable}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1, result.stderr
    return result.stderr


def test_pure_python_protobuf_is_logged_as_a_warning(tmp_path):
    env = {**os.environ, "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": "python"}
    stderr = start_and_fail(tmp_path, env)
    assert f"WARNING {NOTE}" in stderr


def test_the_default_backend_is_not_mentioned(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"}
    stderr = start_and_fail(tmp_path, env)
    assert NOTE not in stderr
