"""One function per ``argos-admin`` command: translate arguments, call a service, report."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from dataclasses import dataclass
from typing import Any

from argos_core.bootstrap import Services
from argos_core.cli.durations import parse_duration
from argos_core.demo import seed_demo
from argos_core.errors import ValidationError
from argos_core.scope import Principal


@dataclass
class Output:
    """What a command reports: ``text`` (one value per line) or one JSON object."""

    text: str
    data: dict[str, Any]


def cli_principal() -> Principal:
    """Whoever can reach the database with ``argos-admin`` administers the platform."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Principal(f"cli:{who}", "superadmin", source="argos-admin")


def read_password_stdin() -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise ValidationError("No password on standard input (pipe it in, e.g. with echo).")
    return password


def db_upgrade(services: Services, _args: argparse.Namespace) -> Output:
    from argos_core.migrate import upgrade  # Alembic is only needed here

    revision = upgrade(services.engine)
    return Output(f"Schema is at revision {revision}.", {"revision": revision})


def create_superadmin(services: Services, args: argparse.Namespace) -> Output:
    name = services.users.create_superadmin(args.username, read_password_stdin())
    return Output(name, {"username": name})


def tenant_create(services: Services, args: argparse.Namespace) -> Output:
    node = services.orgs.create_tenant(cli_principal(), args.name)
    return Output(node.org_id, {"org_id": node.org_id, "name": node.name})


def company_create(services: Services, args: argparse.Namespace) -> Output:
    node = services.orgs.create_company(cli_principal(), args.tenant, args.name)
    return Output(
        node.org_id, {"org_id": node.org_id, "name": node.name, "tenant": node.parent_org_id}
    )


def branch_create(services: Services, args: argparse.Namespace) -> Output:
    node = services.orgs.create_branch(cli_principal(), args.company, args.name)
    return Output(
        node.org_id, {"org_id": node.org_id, "name": node.name, "company": node.parent_org_id}
    )


def org_list(services: Services, args: argparse.Namespace) -> Output:
    principal = cli_principal()
    parent = getattr(args, "tenant", None) or getattr(args, "company", None)
    nodes, offset = [], 0
    while True:
        page = services.orgs.list_children(principal, parent, offset=offset, limit=500)
        nodes.extend(page.items)
        offset += len(page.items)
        if not page.has_more:
            break
    rows = [
        {"org_id": n.org_id, "name": n.name, "agents": n.counts.total, "online": n.counts.online}
        for n in nodes
    ]
    text = "\n".join(
        f"{r['org_id']}\t{r['name']}\t{r['online']}/{r['agents']} online" for r in rows
    )
    return Output(text, {"items": rows})


def org_rename(services: Services, args: argparse.Namespace) -> Output:
    node = services.orgs.rename(cli_principal(), args.org_id, args.name)
    return Output(node.org_id, {"org_id": node.org_id, "name": node.name})


def org_delete(services: Services, args: argparse.Namespace) -> Output:
    services.orgs.delete(cli_principal(), args.org_id, force=args.force)
    return Output("", {"deleted": args.org_id.strip().upper()})


def branch_enrollment_key(services: Services, args: argparse.Namespace) -> Output:
    issued = services.enrollment.issue_key(
        cli_principal(), args.org_id, expires_in=parse_duration(args.expires_in), note=args.note
    )
    return Output(
        issued.key,
        {
            "key": issued.key,
            "key_id": issued.key_id,
            "branch": issued.branch_org_id,
            "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
        },
    )


def user_create(services: Services, args: argparse.Namespace) -> Output:
    info = services.users.create_user(
        cli_principal(),
        username=args.username,
        password=read_password_stdin(),
        role=args.role,
        scope_org_id=args.scope,
    )
    return Output(
        info.username,
        {
            "username": info.username,
            "role": info.role,
            "scope": info.scope_org_id,
            "scope_kind": info.scope_kind,
        },
    )


def demo_seed(services: Services, args: argparse.Namespace) -> Output:
    started = time.perf_counter()
    summary = seed_demo(
        services.engine,
        tenants=args.tenants,
        companies=args.companies,
        branches=args.branches,
        agents=args.agents,
        days=args.days,
        telemetry_agents=args.telemetry_agents,
        seed=args.seed,
    )
    seconds = round(time.perf_counter() - started, 2)
    text = (
        f"Seeded {summary.tenants} tenants, {summary.companies} companies, "
        f"{summary.branches} branches, {summary.agents} agents and {summary.samples:,} "
        f"samples in {seconds} s. Log in as '{summary.superadmin}'."
    )
    return Output(text, {**summary.__dict__, "seconds": seconds})
