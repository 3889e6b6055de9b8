"""``argos-admin`` as a user runs it: a real process on a real database."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from argos_core.cli.main import main

ADMIN = str(Path(sys.executable).with_name("argos-admin"))
PASSWORD = "Correct-horse-9\n"


@pytest.fixture
def admin(fresh_database_url):
    def run(*args: str, stdin: str | None = None, json_out: bool = False, url: str | None = None):
        cmd = [ADMIN, "--database-url", url or fresh_database_url]
        if json_out:
            cmd.append("--json")
        return subprocess.run(
            [*cmd, *args], input=stdin, capture_output=True, text=True, timeout=120
        )

    return run


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(result, fragment: str) -> None:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert fragment.lower() in lines[0].lower(), lines[0]


def test_the_protocol_commands_print_identifiers_alone(admin):
    assert "revision" in ok(admin("db", "upgrade"))
    assert (
        ok(
            admin(
                "create-superadmin", "--username", "root-admin", "--password-stdin", stdin=PASSWORD
            )
        ).strip()
        == "root-admin"
    )
    tenant = ok(admin("tenant", "create", "Acme")).strip()
    assert len(tenant) in range(5, 9) and tenant.isupper()
    company = ok(admin("company", "create", "--tenant", f" {tenant.lower()} ", "HQ")).strip()
    made = json.loads(ok(admin("branch", "create", "--company", company, "Berlin", json_out=True)))
    assert made["company"] == company and made["name"] == "Berlin"
    key = ok(admin("branch", "enrollment-key", made["org_id"], "--expires-in", "2d")).strip()
    assert len(key) >= 40 and "\n" not in key
    user = json.loads(
        ok(
            admin(
                "user",
                "create",
                "--scope",
                company,
                "--username",
                "bob",
                "--role",
                "viewer",
                "--password-stdin",
                stdin=PASSWORD,
                json_out=True,
            )
        )
    )
    assert user == {"username": "bob", "role": "viewer", "scope": company, "scope_kind": "company"}
    listing = ok(admin("tenant", "list"))
    assert listing.startswith(f"{tenant}\tAcme")


def test_a_real_process_reports_mistakes_without_tracebacks(admin):
    ok(admin("db", "upgrade"))
    ok(admin("tenant", "create", "Acme"))
    refused(admin("tenant", "create", "acme"), "already exists")
    refused(admin("tenant", "list", url="mysql+pymysql://root@127.0.0.1:1/argos"), "cannot reach")


@pytest.fixture
def admin_in_process(fresh_database_url, capsys, monkeypatch):
    """The same entry point, called in-process: quick enough to try every mistake."""

    def run(*args: str, stdin: str = "", url: str | None = None):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = main(["--database-url", url or fresh_database_url, *args])
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def test_user_mistakes_are_one_line_and_non_zero(admin_in_process, tmp_path):
    admin = admin_in_process
    ok(admin("db", "upgrade"))
    tenant = ok(admin("tenant", "create", "Acme")).strip()
    refused(admin("tenant", "create", "acme"), "already exists")
    refused(admin("tenant", "create", "   "), "cannot be empty")
    refused(admin("tenant", "create", "x" * 101), "at most 100")
    refused(admin("company", "create", "--tenant", "ZZZZZ", "HQ"), "no tenant, company or branch")
    refused(admin("company", "create", "--tenant", "not-an-id!", "HQ"), "no tenant")
    refused(admin("branch", "create", "--company", tenant, "B"), "no tenant, company or branch")
    refused(admin("branch", "enrollment-key", tenant, "--expires-in", "0d"), "not a duration")
    refused(
        admin("create-superadmin", "--username", "root-admin", "--password-stdin", stdin="weak\n"),
        "at least",
    )
    refused(
        admin("create-superadmin", "--username", "root-admin", "--password-stdin"), "no password"
    )
    refused(
        admin("create-superadmin", "--username", "x", "--password-stdin", stdin=PASSWORD),
        "usernames",
    )
    refused(
        admin(
            "user",
            "create",
            "--scope",
            tenant,
            "--username",
            "bob",
            "--role",
            "owner",
            "--password-stdin",
            stdin=PASSWORD,
        ),
        "invalid choice",
    )
    refused(admin("tenant"), "required")
    refused(admin("tenant", "list", url="postgresql://nobody@127.0.0.1/x"), "unsupported")
    refused(admin("tenant", "list", url="::not a url::"), "not valid")
    refused(
        admin("tenant", "list", url=f"sqlite:///{tmp_path}/nowhere/deeper/x.db"), "cannot reach"
    )
    refused(admin("tenant", "list", url=f"sqlite:///{tmp_path}/empty.db"), "db upgrade")


def test_demo_seed_builds_the_requested_fleet(admin):
    ok(admin("db", "upgrade"))
    summary = json.loads(
        ok(
            admin(
                "demo",
                "seed",
                "--tenants",
                "2",
                "--companies",
                "2",
                "--branches",
                "2",
                "--agents",
                "3",
                "--days",
                "0.1",
                json_out=True,
            )
        )
    )
    assert (summary["tenants"], summary["companies"], summary["branches"], summary["agents"]) == (
        2,
        4,
        8,
        24,
    )
    assert summary["samples"] == 24 * 144
    refused(admin("demo", "seed"), "already holds the demo data")
    refused(admin("demo", "seed", "--tenants", "0"), "between 1 and 1000")
