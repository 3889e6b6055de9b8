"""``argos-agent`` command-line mistakes: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import pytest

from argos_agent.main import agent_parser, main, simulate_parser


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
        ["--server", "http://127.0.0.1:1", "--branch", "ABCDE", "--enrollment-key", "k",
         "--ca-file", "/nonexistent/ca.pem"],
        ["--server", "https://127.0.0.1:1", "--branch", "ABCDE", "--enrollment-key", "k",
         "--ca-file", "/nonexistent/ca.pem"],
    ],
)  # fmt: skip
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


def test_the_enrollment_key_may_come_from_the_environment_even_with_a_leading_dash(monkeypatch):
    monkeypatch.setenv("ARGOS_ENROLLMENT_KEY", "-Kx9_leading-dash")
    common = ["--server", "http://127.0.0.1:8080", "--branch", "ABCDE"]
    assert agent_parser().parse_args(common).enrollment_key == "-Kx9_leading-dash"
    simulated = simulate_parser().parse_args([*common, "--agents", "2"])
    assert simulated.enrollment_key == "-Kx9_leading-dash"
    given = agent_parser().parse_args([*common, "--enrollment-key=-given"])
    assert given.enrollment_key == "-given"
