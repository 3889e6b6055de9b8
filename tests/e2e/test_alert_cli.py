"""``argos-admin alert rule create``, ``notify channel create``, ``maintenance create`` and
the alert listing, as PROTOCOL.md fixes them: real processes on a real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ADMIN = str(Path(sys.executable).with_name("argos-admin"))


@pytest.fixture
def admin(fresh_database_url):
    def run(*args: str, json_out: bool = False):
        cmd = [ADMIN, "--database-url", fresh_database_url, *(["--json"] if json_out else [])]
        return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)

    return run


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result, fragment: str) -> None:
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment.lower() in lines[0].lower(), lines[0]


def test_alert_commands_print_ids_alone_or_one_json_object(admin):
    tenant = ok(admin("tenant", "create", "Acme")).strip()
    company = ok(admin("company", "create", "--tenant", tenant, "HQ")).strip()
    branch = ok(admin("branch", "create", "--company", company, "Berlin")).strip()
    rule = ok(
        admin(
            "alert",
            "rule",
            "create",
            "--scope",
            tenant,
            "--metric",
            "cpu_percent",
            "--above",
            "90",
            "--for",
            "2m",
            "--recover-at",
            "70",
            "--severity",
            "critical",
        )
    )
    assert rule.strip().isdigit() and rule.count("\n") == 1
    offline = json.loads(
        ok(
            admin(
                "alert",
                "rule",
                "create",
                "--scope",
                branch,
                "--condition",
                "offline",
                "--severity",
                "warning",
                json_out=True,
            )
        )
    )
    assert offline["condition"] == "offline" and offline["node"] == branch
    hook = ok(
        admin("notify", "channel", "create", "--scope", company, "--webhook", "https://h.example/x")
    )
    assert hook.strip().isdigit()
    mail = json.loads(
        ok(
            admin(
                "notify",
                "channel",
                "create",
                "--scope",
                branch,
                "--email",
                "ops@example.com",
                "--min-severity",
                "critical",
                json_out=True,
            )
        )
    )
    assert mail["kind"] == "email" and mail["min_severity"] == "critical"
    window = json.loads(
        ok(
            admin(
                "maintenance",
                "create",
                "--scope",
                branch,
                "--start",
                "2026-12-01T23:00",
                "--duration",
                "3h",
                "--repeat",
                "daily",
                "--timezone",
                "Europe/Berlin",
                json_out=True,
            )
        )
    )
    assert window["repeat"] == "daily" and window["duration_s"] == 3 * 3600
    rules = json.loads(ok(admin("alert", "rule", "list", json_out=True)))["items"]
    assert [r["id"] for r in rules] == [int(rule), offline["id"]]
    assert json.loads(ok(admin("alert", "list", json_out=True))) == {"items": [], "total": 0}


def test_alert_command_mistakes_are_one_sentence(admin):
    tenant = ok(admin("tenant", "create", "Acme")).strip()
    refused(
        admin(
            "alert",
            "rule",
            "create",
            "--scope",
            tenant,
            "--metric",
            "cpu_percent",
            "--severity",
            "warning",
        ),
        "--above",
    )
    refused(
        admin(
            "alert",
            "rule",
            "create",
            "--scope",
            tenant,
            "--metric",
            "nope",
            "--above",
            "1",
            "--severity",
            "warning",
        ),
        "unknown metric",
    )
    refused(
        admin(
            "alert",
            "rule",
            "create",
            "--scope",
            "ZZZZZ",
            "--condition",
            "offline",
            "--severity",
            "warning",
        ),
        "ZZZZZ",
    )
    refused(
        admin("notify", "channel", "create", "--scope", tenant, "--webhook", "gopher://x"),
        "webhook",
    )
    refused(
        admin(
            "maintenance", "create", "--scope", tenant, "--start", "tomorrow", "--duration", "1h"
        ),
        "not a date",
    )
    refused(admin("alert", "ack", "12345"), "no alert")
