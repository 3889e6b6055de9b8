"""The agent command line the console hands out works for every key and address."""

from __future__ import annotations

import shlex

import pytest

from argos_agent.main import agent_parser
from argos_core import tokens
from argos_desktop.admin.enrollment_dialog import install_command


@pytest.mark.parametrize(
    "key",
    ["-XSAcq2Vh_k", "--help", "a b'c\"d", "key;rm -rf ~", "argos_-Xq2Vh_kLmN0pQr"],
)
def test_the_copied_command_gives_the_agent_exactly_the_key_and_server(key: str) -> None:
    command = install_command(" https://argos.example:8443 ", "K7Q2M9", key)
    program, *argv = shlex.split(command)
    args = agent_parser().parse_args(argv)
    assert program == "argos-agent"
    assert (args.server, args.branch, args.enrollment_key) == (
        ("https://argos.example:8443",),
        "K7Q2M9",
        key,
    )


def test_machine_secrets_never_begin_with_a_dash() -> None:
    # A bare token_urlsafe(32) begins with "-" once in 64; 2,000 draws miss that ~1e-14.
    assert not [s for s in (tokens.new_machine_secret() for _ in range(2000)) if s[0] == "-"]
