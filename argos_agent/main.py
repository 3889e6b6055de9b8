"""``argos-agent``: report this host's metrics, or ``argos-agent simulate`` a fleet.

    argos-agent --server URL --branch ORG --enrollment-key KEY [--interval S] [--ca-file FILE]
    argos-agent simulate --server URL --branch ORG --enrollment-key KEY --agents N
                         [--interval S] [--duration S] [--ca-file FILE]

The key may come from ``$ARGOS_ENROLLMENT_KEY`` instead, so that it never shows on a command
line. Both stop promptly on SIGTERM or Ctrl+C and exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from argos_agent.host_metrics import HostSampler, inventory
from argos_agent.protocol import Enrollment, IngestClient, tls_context
from argos_agent.reporter import EnrollmentRefused, Reporter
from argos_agent.sample_buffer import SampleBuffer
from argos_agent.simulation import run_fleet
from argos_agent.state import AgentState, default_state_path, load_state, save_state

KEY_ENV = "ARGOS_ENROLLMENT_KEY"
MAX_SIMULATED_AGENTS = 100_000
log = logging.getLogger("argos.agent")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not a usage dump
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        required=True,
        type=_servers,
        help="e.g. http://127.0.0.1:8080; several, comma-separated, are tried in turn",
    )
    parser.add_argument("--branch", required=True, type=_org_id, help="the branch org id")
    parser.add_argument(
        "--enrollment-key",
        default=os.environ.get(KEY_ENV),
        help=f"default: ${KEY_ENV} (which keeps the key off the command line)",
    )
    parser.add_argument(
        "--ca-file",
        help="PEM file of the CA(s) that signed an https:// server's certificate "
        "(default: the system's trust store)",
    )
    parser.add_argument(
        "--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def agent_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="argos-agent",
        description="Report this host's metrics to Argos.",
        epilog="Run 'argos-agent simulate --help' for the fleet simulator.",
    )
    _common(p)
    p.add_argument("--interval", type=_seconds, help="seconds between samples (default: server)")
    p.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help=f"where the token is kept (default: {default_state_path()}); unsent samples "
        "wait beside it in <name>.buffer.jsonl",
    )
    return p


def simulate_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="argos-agent simulate", description="Run simulated agents over the real protocol."
    )
    _common(p)
    p.add_argument("--agents", required=True, type=_agent_count)
    p.add_argument("--interval", type=_seconds, default=30.0, help="seconds between samples")
    p.add_argument("--duration", type=_seconds, help="stop after this many seconds")
    p.add_argument("--seed", type=int, default=0, help="same seed, same hosts and curves")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    simulate = bool(argv) and argv[0] == "simulate"
    parser = simulate_parser() if simulate else agent_parser()
    args = parser.parse_args(argv[1:] if simulate else argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    try:
        _check_ca_file(args)
        if simulate:
            return asyncio.run(_until_signal(lambda stop: _simulate(args, stop), args.duration))
        return asyncio.run(_until_signal(lambda stop: _report(args, stop), None))
    except EnrollmentRefused as exc:
        print(f"argos-agent: enrollment refused: {exc}", file=sys.stderr)
        return 1
    except _UsageError as exc:
        print(f"argos-agent: {exc}", file=sys.stderr)
        return 2


class _UsageError(Exception):
    pass


async def _until_signal(
    body: Callable[[asyncio.Event], Awaitable[int]], duration: float | None
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if duration is not None:
        loop.call_later(duration, stop.set)
    return await body(stop)


async def _simulate(args: argparse.Namespace, stop: asyncio.Event) -> int:
    if not args.enrollment_key:
        raise _UsageError(f"--enrollment-key (or ${KEY_ENV}) is required")
    print(
        f"argos-agent: simulating {args.agents} agents for branch {args.branch} "
        f"every {args.interval:g}s against {','.join(args.server)}",
        flush=True,
    )
    stats = await run_fleet(
        args.server,
        args.branch,
        args.enrollment_key,
        args.agents,
        interval_s=args.interval,
        stop=stop,
        seed=args.seed,
        ca_file=args.ca_file,
    )
    print(
        f"argos-agent: stopped; {stats.enrolled} agents enrolled, {stats.sent} samples accepted,"
        f" {stats.duplicates} duplicates, {stats.dropped} dropped",
        flush=True,
    )
    return 0


async def _report(args: argparse.Namespace, stop: asyncio.Event) -> int:
    path = args.state_file or default_state_path()
    state = load_state(path)
    same_place = state.server == ",".join(args.server) and state.branch_org_id == args.branch
    enrollment = Enrollment(state.agent_id, state.token, 0) if same_place and state.token else None
    if enrollment is None and not args.enrollment_key:
        raise _UsageError(f"--enrollment-key (or ${KEY_ENV}) is required to enroll this host")
    client = IngestClient(args.server, ca_file=args.ca_file)
    buffer = SampleBuffer(buffer_path(path))
    if len(buffer):
        log.info(
            "%d unsent samples from an earlier run are waiting in %s", len(buffer), buffer.path
        )

    async def enroll() -> Enrollment:
        if not args.enrollment_key:
            raise EnrollmentRefused("the token was refused and no enrollment key was given")
        return await client.enroll(args.branch, args.enrollment_key, inventory(state.machine_id))

    def remember(new: Enrollment) -> None:
        _save(path, state, args, new)
        log.info("enrolled as agent %s", new.agent_id)

    reporter = Reporter(
        client,
        enroll,
        HostSampler(),
        name="agent",
        interval_s=args.interval,
        enrollment=enrollment,
        buffer=buffer,
        batch_size=1000,
        on_enrolled=remember,
    )
    try:
        await reporter.run(stop)
    finally:
        buffer.close()
        await client.close()
    return 0


def buffer_path(state_path: Path) -> Path:
    """Where the agent keeps its unsent samples: beside its state file."""
    return state_path.with_name(f"{state_path.stem}.buffer.jsonl")


def _check_ca_file(args: argparse.Namespace) -> None:
    if args.ca_file is None:
        return
    if any(urlsplit(server).scheme != "https" for server in args.server):
        raise _UsageError("--ca-file is for https:// servers")
    try:
        tls_context(args.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise _UsageError(f"cannot use {args.ca_file} as a CA file: {exc}") from exc


def _save(path: Path, state: AgentState, args: argparse.Namespace, new: Enrollment) -> None:
    state.server, state.branch_org_id = ",".join(args.server), args.branch
    state.agent_id, state.token = new.agent_id, new.token
    try:
        save_state(path, state)
    except OSError as exc:
        log.error("cannot write the state file %s: %s", path, exc)


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"'{value}' is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' has an invalid port") from exc
    return value.rstrip("/")


def _servers(value: str) -> tuple[str, ...]:
    return tuple(_url(part.strip()) for part in value.split(","))


def _org_id(value: str) -> str:
    org = value.strip().upper()
    if not 5 <= len(org) <= 8 or not org.isalnum() or not org.isascii():
        raise argparse.ArgumentTypeError(f"'{value}' is not an org id (5-8 letters and digits)")
    return org


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 1 <= seconds <= 86400:
        raise argparse.ArgumentTypeError(f"'{value}' must be a number of seconds from 1 to 86400")
    return seconds


def _agent_count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_SIMULATED_AGENTS:
        raise argparse.ArgumentTypeError(
            f"'{value}' must be a whole number from 1 to {MAX_SIMULATED_AGENTS}"
        )
    return int(value)


if __name__ == "__main__":
    sys.exit(main())
