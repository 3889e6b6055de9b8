"""``argos-admin alert …``, ``notify …`` and ``maintenance …`` (PROTOCOL.md)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import datetime

from argos_core.bootstrap import Services
from argos_core.cli.commands import Output, cli_principal
from argos_core.cli.durations import parse_duration
from argos_core.errors import ValidationError


def add_parsers(groups: argparse._SubParsersAction) -> None:
    alert = groups.add_parser("alert", help="alert rules and alerts").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    rule = alert.add_parser("rule", help="alert rules").add_subparsers(
        dest="sub", metavar="COMMAND", required=True
    )
    p = rule.add_parser("create", help="create a rule on a node; prints its id")
    p.add_argument("--scope", required=True, metavar="ORG", help="org id or agent id")
    p.add_argument("--condition", choices=["threshold", "offline", "overdue"], default="threshold")
    p.add_argument("--metric")
    side = p.add_mutually_exclusive_group()
    side.add_argument("--above", type=float, metavar="X")
    side.add_argument("--below", type=float, metavar="X")
    p.add_argument("--for", dest="for_", default=None, metavar="DURATION", help="e.g. 2m")
    p.add_argument("--samples", type=int, default=1, help="consecutive samples (default 1)")
    p.add_argument("--recover-at", type=float, metavar="X")
    p.add_argument("--severity", required=True, choices=["warning", "critical"])
    p.set_defaults(func=rule_create)
    p = rule.add_parser("list", help="list rules")
    p.set_defaults(func=rule_list)

    p = alert.add_parser("list", help="list open alerts (--resolved: the history)")
    p.add_argument("--resolved", action="store_true")
    p.add_argument("--scope", metavar="ORG")
    p.set_defaults(func=alert_list)
    p = alert.add_parser("ack", help="acknowledge an alert")
    p.add_argument("alert_id", type=int)
    p.add_argument("--comment", default="")
    p.set_defaults(func=alert_ack)

    notify = groups.add_parser("notify", help="notification channels").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    channel = notify.add_parser("channel", help="channels").add_subparsers(
        dest="sub", metavar="COMMAND", required=True
    )
    p = channel.add_parser("create", help="send a node's alerts somewhere; prints the id")
    p.add_argument("--scope", required=True, metavar="ORG")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--webhook", metavar="URL")
    where.add_argument("--email", metavar="ADDRESS")
    p.add_argument("--min-severity", choices=["warning", "critical"], default="warning")
    p.set_defaults(func=channel_create)

    maintenance = groups.add_parser("maintenance", help="maintenance windows").add_subparsers(
        dest="cmd", metavar="COMMAND", required=True
    )
    p = maintenance.add_parser("create", help="a window without notifications; prints its id")
    p.add_argument("--scope", required=True, metavar="ORG", help="org id or agent id")
    p.add_argument(
        "--start", required=True, metavar="WHEN", help="e.g. 2026-12-01T02:00 (local to --timezone)"
    )
    p.add_argument("--duration", required=True, help="e.g. 1h")
    p.add_argument("--repeat", choices=["daily", "weekly"], default=None)
    p.add_argument("--timezone", default="UTC", help="time zone of --start (default UTC)")
    p.add_argument("--comment", default="")
    p.set_defaults(func=maintenance_create)


def _seconds(raw: str | None) -> int:
    if raw is None:
        return 0
    length = parse_duration(raw)
    if length is None:
        raise ValidationError(f"'{raw}' is not a duration here; use e.g. 90s, 2m or 1h.")
    return int(length.total_seconds())


def rule_create(services: Services, args: argparse.Namespace) -> Output:
    if args.condition == "threshold" and args.above is None and args.below is None:
        raise ValidationError("A threshold rule needs --above X or --below X.")
    threshold = args.above if args.above is not None else args.below
    info = services.alerts.create_rule(
        cli_principal(),
        args.scope,
        severity=args.severity,
        condition=args.condition,
        metric=args.metric,
        comparison=None if threshold is None else ("above" if args.above is not None else "below"),
        threshold=threshold,
        recover_at=args.recover_at,
        for_s=_seconds(args.for_),
        samples=args.samples,
    )
    return Output(str(info.id), asdict(info))


def rule_list(services: Services, _args: argparse.Namespace) -> Output:
    rules = services.alerts.list_rules(cli_principal())
    text = "\n".join(
        f"{r.id}\t{r.node}\t{r.condition}\t{r.metric or ''}\t{r.comparison or ''}\t"
        f"{'' if r.threshold is None else f'{r.threshold:g}'}\t{r.severity}\t"
        f"{'enabled' if r.enabled else 'disabled'}"
        for r in rules
    )
    return Output(text, {"items": [asdict(r) for r in rules]})


def alert_list(services: Services, args: argparse.Namespace) -> Output:
    page = services.alerts.list_alerts(
        cli_principal(), active=not args.resolved, node=args.scope, limit=1000
    )
    text = "\n".join(
        f"{a.id}\t{a.severity}\t{a.state}\t{a.hostname}\t{a.rule}\t{a.opened_at.isoformat()}"
        for a in page.items
    )
    return Output(
        text,
        {
            "items": [{**asdict(a), "opened_at": a.opened_at.isoformat()} for a in page.items],
            "total": page.total,
        },
    )


def alert_ack(services: Services, args: argparse.Namespace) -> Output:
    info = services.alerts.acknowledge(cli_principal(), args.alert_id, args.comment)
    return Output(str(info.id), {"alert_id": info.id, "state": info.state})


def channel_create(services: Services, args: argparse.Namespace) -> Output:
    kind, target = ("webhook", args.webhook) if args.webhook else ("email", args.email)
    info = services.alerts.create_channel(
        cli_principal(), args.scope, kind, target, args.min_severity
    )
    return Output(str(info.id), asdict(info))


def maintenance_create(services: Services, args: argparse.Namespace) -> Output:
    try:
        start = datetime.fromisoformat(args.start.strip())
    except ValueError as exc:
        raise ValidationError(
            f"'{args.start}' is not a date and time; use e.g. 2026-12-01T02:00."
        ) from exc
    info = services.alerts.create_maintenance(
        cli_principal(),
        args.scope,
        start,
        _seconds(args.duration),
        repeat=args.repeat or "none",
        timezone=args.timezone,
        comment=args.comment,
    )
    return Output(str(info.id), asdict(info))
