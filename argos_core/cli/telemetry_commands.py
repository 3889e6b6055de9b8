"""``argos-admin telemetry housekeep`` and ``argos-admin telemetry stats``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from argos_core.bootstrap import Services
from argos_core.cli.commands import Output
from argos_core.cli.durations import parse_duration
from argos_core.errors import Conflict, ValidationError
from argos_core.housekeeping import (
    DEFAULT_SLEEP_COEF,
    HOUSEKEEPING_JOB,
    MAX_SLEEP_COEF,
    Retention,
    housekeep,
)
from argos_core.leases import Lease, new_owner
from argos_core.pass_pace import PassPace
from argos_core.telemetry_stats import telemetry_stats

LEASE_TTL = timedelta(minutes=10)


def _retention(raw: str, label: str) -> timedelta:
    value = parse_duration(raw)
    if value is None:
        raise ValidationError(f"--{label} must be a duration such as 14d, not 'never'.")
    return value


def _when(ts: int | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def telemetry_housekeep(services: Services, args: argparse.Namespace) -> Output:
    retention = Retention(
        _retention(args.raw_retention, "raw-retention"),
        _retention(args.rollup_retention, "rollup-retention"),
    )
    coef = args.sleep_coef
    if not 0 <= coef <= MAX_SLEEP_COEF:
        raise ValidationError(f"--sleep-coef must be a number from 0 to {MAX_SLEEP_COEF:g}.")
    lease = Lease(services.engine, HOUSEKEEPING_JOB, new_owner("argos-admin"), LEASE_TTL)
    if not lease.claim():
        holder = lease.holder()
        raise Conflict(
            "Housekeeping is running elsewhere"
            + (f" ({holder.owner}, lease until {holder.until:%H:%M:%S} UTC)" if holder else "")
            + "; try again when it is done."
        )
    try:
        report = housekeep(services.engine, retention, pace=PassPace(lease.renew, sleep_coef=coef))
    finally:
        lease.release()
    data = {
        "hours_rolled": report.hours_rolled,
        "late_agent_hours": report.late_agent_hours,
        "branches_rebuilt": report.branches_rebuilt,
        "days_rolled": report.days_rolled,
        "partitions_created": report.partitions_created,
        "partitions_dropped": report.partitions_dropped,
        "partitions_put_off": report.partitions_put_off,
        "raw_rows_deleted": report.raw_rows_deleted,
        "rollup_rows_deleted": report.rollup_rows_deleted,
        "rolled_until": report.rolled_until,
        "raw_horizon": report.raw_horizon,
        "seconds": round(report.seconds, 3),
        "rested_seconds": round(report.rested_seconds, 3),
    }
    text = "\n".join(
        [
            f"Rolled up {report.hours_rolled} hours (up to {_when(report.rolled_until)}),"
            f" re-rolled {report.late_agent_hours} agent-hours with late samples,"
            f" rebuilt {report.branches_rebuilt} branches' node tier, rolled"
            f" {report.days_rolled} days into the daily tier.",
            f"Partitions created: {len(report.partitions_created)},"
            f" dropped: {len(report.partitions_dropped)}; raw rows deleted:"
            f" {report.raw_rows_deleted:,}; rollup rows deleted: {report.rollup_rows_deleted:,}.",
            f"Raw data kept from {_when(report.raw_horizon)}; took {report.seconds:.2f} s"
            f" ({report.rested_seconds:.2f} s of it resting between transactions).",
        ]
        + (
            ["Partitions were left for the next pass: the telemetry table was busy."]
            if report.partitions_put_off
            else []
        )
    )
    return Output(text, data)


def telemetry_stats_command(services: Services, _args: argparse.Namespace) -> Output:
    stats = telemetry_stats(services.engine)
    about = "≈" if stats.raw_rows_estimated else ""
    lines = [
        f"Raw rows: {about}{stats.raw_rows:,}"
        f" ({_when(stats.oldest_raw_ts)} .. {_when(stats.newest_raw_ts)})",
        f"Rollup rows: {stats.rollup_rows:,}"
        f" ({_when(stats.oldest_rollup_ts)} .. {_when(stats.newest_rollup_ts)}),"
        f" rolled up to {_when(stats.rolled_until)}",
        f"Bytes on disk: {stats.bytes:,}",
    ]
    if stats.partitions:
        lines.append(
            f"Partitions: {len(stats.partitions)}"
            f" ({stats.partitions[0].name} .. {stats.partitions[-1].name})"
        )
    return Output("\n".join(lines), stats.as_json())


def add_parsers(groups) -> None:
    telemetry = groups.add_parser("telemetry", help="telemetry history").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = telemetry.add_parser(
        "housekeep",
        help="roll up closed hours, prepare partitions, drop expired raw data and rollups",
    )
    p.add_argument("--raw-retention", default="14d", metavar="DURATION")
    p.add_argument("--rollup-retention", default="730d", metavar="DURATION")
    p.add_argument(
        "--sleep-coef",
        type=float,
        default=DEFAULT_SLEEP_COEF,
        metavar="X",
        help="rest X times as long as each transaction took, leaving the database to a"
        f" running server's ingest (0 = as fast as it goes); default {DEFAULT_SLEEP_COEF:g}",
    )
    p.set_defaults(func=telemetry_housekeep)
    telemetry.add_parser(
        "stats", help="raw and rollup rows, time spans, partitions, bytes on disk"
    ).set_defaults(func=telemetry_stats_command)
