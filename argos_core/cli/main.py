"""``argos-admin`` entry point: parse, dispatch, and turn every user mistake into one line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from argos_core.bootstrap import bootstrap
from argos_core.cli import alert_commands, commands, telemetry_commands
from argos_core.errors import ArgosError, DatabaseUnavailable
from argos_core.transactions import is_connection_error

PROG = "argos-admin"


class Parser(argparse.ArgumentParser):
    """argparse, but usage mistakes end in one line on stderr instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help').\n")


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Administer an Argos database.")
    parser.add_argument(
        "--database-url",
        help="database URL (else ARGOS_DATABASE_URL, else the embedded SQLite file)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    groups = parser.add_subparsers(
        dest="group", metavar="COMMAND", required=True, parser_class=Parser
    )

    db = groups.add_parser("db", help="schema management").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    db.add_parser("upgrade", help="create or migrate the schema (idempotent)").set_defaults(
        func=commands.db_upgrade
    )

    sa = groups.add_parser("create-superadmin", help="create a platform superadmin")
    sa.add_argument("--username", required=True)
    sa.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input",
    )
    sa.set_defaults(func=commands.create_superadmin)

    tenant = groups.add_parser("tenant", help="tenants").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = tenant.add_parser("create", help="create a tenant; prints its org id")
    p.add_argument("name")
    p.set_defaults(func=commands.tenant_create)
    tenant.add_parser("list", help="list tenants").set_defaults(func=commands.org_list)

    company = groups.add_parser("company", help="companies").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = company.add_parser("create", help="create a company; prints its org id")
    p.add_argument("--tenant", required=True, metavar="ORG")
    p.add_argument("name")
    p.set_defaults(func=commands.company_create)
    p = company.add_parser("list", help="list a tenant's companies")
    p.add_argument("--tenant", required=True, metavar="ORG")
    p.set_defaults(func=commands.org_list)

    branch = groups.add_parser("branch", help="branches").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = branch.add_parser("create", help="create a branch; prints its org id")
    p.add_argument("--company", required=True, metavar="ORG")
    p.add_argument("name")
    p.set_defaults(func=commands.branch_create)
    p = branch.add_parser("list", help="list a company's branches")
    p.add_argument("--company", required=True, metavar="ORG")
    p.set_defaults(func=commands.org_list)
    p = branch.add_parser("enrollment-key", help="issue an enrollment key; prints it once")
    p.add_argument("org_id", metavar="ORG")
    p.add_argument("--expires-in", default="7d", help="e.g. 12h, 7d, 4w or 'never' (default 7d)")
    p.add_argument("--note", default="", help="what the key is for")
    p.set_defaults(func=commands.branch_enrollment_key)

    for group, kind in ((tenant, "tenant"), (company, "company"), (branch, "branch")):
        p = group.add_parser("rename", help=f"rename a {kind}")
        p.add_argument("org_id", metavar="ORG")
        p.add_argument("name")
        p.set_defaults(func=commands.org_rename)
        p = group.add_parser("delete", help=f"delete a {kind}")
        p.add_argument("org_id", metavar="ORG")
        p.add_argument(
            "--force",
            action="store_true",
            help="also delete everything below it (companies, branches, agents)",
        )
        p.set_defaults(func=commands.org_delete)

    user = groups.add_parser("user", help="client admins").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = user.add_parser("create", help="create a client admin scoped to an org id")
    p.add_argument("--scope", required=True, metavar="ORG")
    p.add_argument("--username", required=True)
    p.add_argument("--role", required=True, choices=["admin", "viewer"])
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.set_defaults(func=commands.user_create)

    demo = groups.add_parser("demo", help="demo data").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = demo.add_parser("seed", help="seed a reproducible demo fleet with telemetry history")
    p.add_argument("--tenants", type=int, default=3)
    p.add_argument("--companies", type=int, default=3, help="per tenant")
    p.add_argument("--branches", type=int, default=3, help="per company")
    p.add_argument("--agents", type=int, default=10, help="per branch")
    p.add_argument("--days", type=float, default=1, help="days of 1-minute telemetry")
    p.add_argument(
        "--telemetry-agents",
        type=int,
        default=None,
        help="only the first N agents get telemetry (default: all)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=commands.demo_seed)

    alert_commands.add_parsers(groups)
    telemetry_commands.add_parsers(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        services = bootstrap(args.database_url)
    except ArgosError as exc:
        return fail(str(exc))
    try:
        output = args.func(services, args)
    except DatabaseUnavailable:
        return fail(f"Cannot reach the database at {safe_url(services)}.")
    except ArgosError as exc:
        return fail(str(exc))
    except DBAPIError as exc:
        if is_connection_error(exc) or exc.connection_invalidated:
            return fail(f"Cannot reach the database at {safe_url(services)}: {first_line(exc)}.")
        return fail(explain_database_error(exc))
    except SQLAlchemyError as exc:
        return fail(f"Database error: {first_line(exc)}.")
    finally:
        services.close()
    if args.json:
        print(json.dumps(output.data, default=str))
    elif output.text:
        print(output.text)
    return 0


def explain_database_error(exc: DBAPIError) -> str:
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    text = first_line(exc)
    if code == 1049:
        return f"{text}; create it on the server, then run '{PROG} db upgrade'."
    if code == 1146 or "no such table" in text:
        return f"The database has no Argos schema yet ({text}); run '{PROG} db upgrade' first."
    if code in (1044, 1045, 1142):
        return f"The database refused access: {text}."
    return f"The database refused the operation: {text}."


def fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def safe_url(services) -> str:
    return make_url(services.database_url).render_as_string(hide_password=True)


def first_line(exc: BaseException) -> str:
    """The driver's own message, without error-code tuples or SQL."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    message = args[1] if len(args) == 2 and isinstance(args[1], str) else str(orig)
    lines = message.strip().splitlines()
    return lines[0].rstrip(".") if lines else type(orig).__name__


if __name__ == "__main__":
    sys.exit(main())
