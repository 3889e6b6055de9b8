"""The README's first command on a real X display.

``argos --demo --self-test`` runs under Xvfb through Qt's xcb platform plugin (not
offscreen), with only the system libraries that the project's own set-up
(``scripts/ensure-system-deps``, run by ``make demo`` and ``make test``) installs. A missing
xcb library makes Qt abort at start-up, which is how a fresh machine with a display failed.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

XVFB = shutil.which("Xvfb")
START_TIMEOUT_S = 20
RUN_TIMEOUT_S = 240

pytestmark = pytest.mark.slow


@pytest.fixture
def x_display() -> Iterator[str]:
    if XVFB is None:
        pytest.skip("Xvfb is not installed; `scripts/ensure-system-deps --test` installs it")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [XVFB, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], START_TIMEOUT_S)
        number = os.read(read_end, 16).decode().strip() if ready else ""
        assert number, f"Xvfb did not start: {server.poll()=}"
        yield f":{number}"
    finally:
        os.close(read_end)
        server.terminate()
        server.wait(10)


def test_the_demo_opens_its_window_through_the_xcb_platform(x_display: str, tmp_path: Path) -> None:
    console = Path(sys.executable).with_name("argos")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "QT_", "WAYLAND"))}
    env.update(
        DISPLAY=x_display,
        QT_QPA_PLATFORM="xcb",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_RUNTIME_DIR=str(tmp_path),
        HOME=str(tmp_path),
    )
    result = subprocess.run(
        [str(console), "--demo", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    output = f"exit status {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, output
    assert "self-test: main window up on xcb" in result.stdout, output
