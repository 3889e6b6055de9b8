"""``argos-agent`` command-line mistakes: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import pytest

from argos_agent.main import main


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--server", "ftp://x", "--branch", "ABCDE", "--enrollment-key", "k"],
        ["--server", "http://127.0.0.1:99999", "--branch", "ABCDE", "--enrollment-key", "k"],
        ["--server", "http://127.0.0.1:8080", "--branch", "no!", "--enrollment-key", "k"],
        ["--server", "http://127.0.0.1:8080", "--branch", "ABCDE", "--interval", "0"],
        ["simulate", "--server", "http://127.0.0.1:8080", "--branch", "ABCDE"],
        ["simulate", "--server", "http://x:1", "--branch", "ABCDE", "--agents", "-3"],
        [
            "simulate",
            "--server",
            "http://x:1",
            "--branch",
            "ABCDE",
            "--agents",
            "2",
            "--interval",
            "soon",
        ],
        ["simulate", "--server", "http://x:1", "--branch", "ABCDE", "--agents", "2"],
    ],
)
def test_bad_command_lines_print_one_line_and_fail(argv, capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("ARGOS_ENROLLMENT_KEY", raising=False)
    argv = (
        [*argv, "--state-file", str(tmp_path / "s.json")]
        if argv[:1] != ["simulate"] and argv
        else argv
    )
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code not in (0, None)
    err = capsys.readouterr().err.strip()
    assert err.startswith("argos-agent")
    assert len(err.splitlines()) == 1
