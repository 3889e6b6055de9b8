"""Many consoles refreshing against a big fleet while its agents report: console API latency
beside ingest latency, and the same ingest load alone in the same run as the reference.

    python benchmarks/console_load.py                             # scratch MariaDB database
    python benchmarks/console_load.py --database-url URL          # an already seeded demo fleet
    python benchmarks/console_load.py --consoles 20 --seconds 20  # a smaller run to try

Seeds 10 tenants x 10 companies x 10 branches x 100 agents (100,000; no telemetry history)
into a scratch database unless ``--database-url`` names a seeded one, and starts
``argos-ingest`` (``--processes 2``) as a child process on it. Then, one after the other:

  reference   agents' telemetry alone: ``--ingest-agents`` of the fleet's agents, 1 sample per
              request, paced at ``--rate`` requests/s for ``--seconds`` (``benchmarks/ingest.py``'s
              paced small-request load; latency from each request's scheduled send time),
              the samples stamped now (``--sample-age`` seconds ago)
  together    the same ingest load, and ``--consoles`` consoles (each signed in over the
              console API as its own session, reading over kept-alive connections with
              pre-encoded requests, see ``Console``) doing what the console's live refresh
              does every ``--interval`` seconds, their first refreshes spread over one interval:
              the shown tree levels (top level, the expanded tenant, company and branch, as far
              as the account's scope starts above them) and the first page of the selected
              node's agents table (200 rows by hostname); the open alerts and the maintenance
              windows (the alert refresh, one after the other), all with If-None-Match once an
              answer carried an ETag; and ``/healthz``: the requests, parameters
              and headers of one refresh of ``argos_desktop`` over its remote backend. The
              console takes the selected node's counts from its tree level's answer; with
              ``--ask-node`` each refresh asks for the node too (``GET /orgs/{org_id}``, with
              If-None-Match), as the console did before 2026-11-30 (the reference for runs
              of the code before)
  reference   the ingest load alone again (the machine may have changed meanwhile)

Accounts: a quarter of the consoles sign in as the demo superadmin, a quarter each as an admin
of a tenant, of a company, and as a viewer of a branch (one account per scope node). Before
the go, every console signs in and loads its tree and detail pane once (the console opening;
not measured). A console request's latency runs from sending it to its answer's last byte.

A benchmark prints figures; it asserts nothing. The machine may be shared: its load average
is printed with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import platform
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
import psutil
from demo_fleet import demo_fleet
from ingest_process import SECRET, IngestProcess
from paced_load import LoadResult, describe, percentiles, start_load
from raw_http import Response, read_response
from sqlalchemy import select
from sqlalchemy.engine import make_url

from argos_core.bootstrap import open_services
from argos_core.db import make_engine
from argos_core.demo import DEMO_PASSWORD, DEMO_SUPERADMIN
from argos_core.models import Agent
from argos_core.scope import Principal
from argos_core.tokens import TokenSigner

SETUP = Principal("bench", "superadmin", source="benchmark")
CONSOLE_P99_TARGET_MS = 300
INGEST_P99_TARGET_MS = 100
ACCOUNT_PASSWORD = "bench-console-load-2026"
# What the console sends (argos_desktop: OrgTreeModel and AgentTableModel page sizes,
# REFRESH_CHUNK, AlertWatch's MAX_ALERTS).
TREE_PAGE = 100
TREE_REFRESH_CHUNK = 500
TABLE_PAGE = 200
SAMPLE_AGE_HELP = (
    "seconds; 0: samples stamped now, as agents send them (before 2026-12-01 the phases"
    " sent samples 3, 2 and 1 hours old: every flush noted late hours for housekeeping to"
    " re-roll; 3600 comes close to that)"
)
MAX_ALERTS = 1000
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
SIGN_IN_ATTEMPTS = 5
ASK_NODE_HELP = "each refresh asks for the selected node too, as the console before 2026-11-30"


# --- the fleet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsolePlan:
    """One console: who signs in, the tree path it has expanded and the node it selected."""

    username: str
    path: list[tuple[str, str]]  # (kind, org_id) from the account's top node down
    selected: int  # index into path
    ask_node: bool = False  # each refresh asks for the selected node (the console before)


def prepare_database(args: argparse.Namespace) -> tuple[str, Callable[[], None], str]:
    """The URL to benchmark, a clean-up function and a line saying what was done."""
    return demo_fleet(
        args.database_url,
        args.server_url,
        "argos_bench_console_load",
        keep=args.keep,
        tenants=10,
        companies=10,
        branches=10,
        agents=args.agents,
        days=0,
    )


def plan_consoles(url: str, consoles: int, ask_node: bool) -> tuple[list[ConsolePlan], int]:
    """Each console's account, path and selection; the accounts are created here."""
    services = open_services(url)
    tag = uuid.uuid4().hex[:6]
    accounts: dict[tuple[str, str], str] = {}
    created = 0

    def account(role: str, org_id: str) -> str:
        nonlocal created
        if (role, org_id) not in accounts:
            name = f"bench-{tag}-{role}-{org_id}".lower()
            services.users.create_user(
                SETUP, username=name, password=ACCOUNT_PASSWORD, role=role, scope_org_id=org_id
            )
            accounts[role, org_id] = name
            created += 1
        return accounts[role, org_id]

    try:
        tenants = [n.org_id for n in services.orgs.list_children(SETUP, None, 0, 1000).items]
        children: dict[str, list[str]] = {}

        def below(org_id: str) -> list[str]:
            if org_id not in children:
                page = services.orgs.list_children(SETUP, org_id, 0, 1000)
                children[org_id] = [n.org_id for n in page.items]
            return children[org_id]

        plans = []
        for i in range(consoles):
            tenant = tenants[i % len(tenants)]
            companies = below(tenant)
            company = companies[(i // len(tenants)) % len(companies)]
            branches = below(company)
            branch = branches[(i // (len(tenants) * len(companies))) % len(branches)]
            full = [("tenant", tenant), ("company", company), ("branch", branch)]
            kind = i % 4
            if kind == 0:
                username, path = DEMO_SUPERADMIN, full
            elif kind == 1:
                username, path = account("admin", tenant), full
            elif kind == 2:
                username, path = account("admin", company), full[1:]
            else:
                username, path = account("viewer", branch), full[2:]
            plans.append(ConsolePlan(username, path, (i // 4) % len(path), ask_node))
        return plans, created
    finally:
        services.close()


def ingest_tokens(url: str, count: int) -> list[str]:
    """Tokens for ``count`` of the fleet's agents that are not revoked, spread over all of it."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Agent.uuid, Agent.token_epoch)
                .where(Agent.revoked_at.is_(None))
                .order_by(Agent.id)
            ).all()
    finally:
        engine.dispose()
    step = max(1, len(rows) // count)
    signer = TokenSigner(SECRET)
    return [signer.issue(u, epoch=epoch) for u, epoch in rows[::step][:count]]


# --- the consoles (run in a forked process) --------------------------------------------------


@dataclass
class ConsoleResult:
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    not_modified: int = 0
    errors: list[str] = field(default_factory=list)
    refreshes: int = 0
    late_refreshes: int = 0
    seconds: float = 0.0
    sign_in_s: float = 0.0
    load_cpu_s: float = 0.0

    @property
    def api_latencies_ms(self) -> list[float]:
        return [ms for kind, got in self.latencies_ms.items() if kind != "healthz" for ms in got]


class Console:
    """One console's HTTP side: its session, its ETag cache and its live refresh.

    Signing in goes through httpx (set-up); the console's reads go over kept-alive
    connections with pre-encoded requests and ``raw_http``'s reader, as the ingest load
    does: httpx and decoding every answer cost the load generator about 6 ms of CPU per
    request, more than the server spends answering it, on the same two cores. Every answer
    is still read to its last byte; only the opening's answers are decoded."""

    def __init__(self, base_url: str, plan: ConsolePlan, result: ConsoleResult) -> None:
        self.base_url = base_url
        address = urlsplit(base_url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.plan = plan
        self.result = result
        self.token = ""
        self.etags: dict[str, str] = {}
        self.loaded: dict[str, tuple[int, int]] = {}  # rows a tree level holds and its total
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def sign_in(self) -> None:
        """Sign in (set-up, not measured); a refused connection is tried again, and counted."""
        password = DEMO_PASSWORD if self.plan.username == DEMO_SUPERADMIN else ACCOUNT_PASSWORD
        body = {"username": self.plan.username, "password": password}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=TIMEOUT) as http:
            for attempt in range(SIGN_IN_ATTEMPTS):
                try:
                    response = await http.post("/api/v1/auth/login", json=body)
                    break
                except httpx.ConnectError as exc:
                    self.result.errors.append(f"sign-in: {exc.__class__.__name__} {exc}")
                    if attempt == SIGN_IN_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(1.0)
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def tree_levels(self) -> list[tuple[str, str, dict]]:
        """(kind, path, params without offset/limit) of every shown level, top first."""
        levels = [("tree", "/api/v1/orgs", {})]
        for kind, org_id in self.plan.path:
            if kind == "branch":
                params = {"sort_by": "hostname", "descending": "false", "text": ""}
                levels.append(("tree agents", f"/api/v1/orgs/{org_id}/agents", params))
            else:
                levels.append(("tree", f"/api/v1/orgs/{org_id}/children", {}))
        return levels

    def table(self) -> tuple[str, dict]:
        org_id = self.plan.path[self.plan.selected][1]
        params = {"offset": 0, "limit": TABLE_PAGE, "sort_by": "hostname"}
        return f"/api/v1/orgs/{org_id}/agents", {**params, "descending": "false", "text": ""}

    async def open(self) -> None:
        """What opening the console reads: first pages, the detail pane (not measured)."""
        for _kind, path, params in self.tree_levels():
            query = {"offset": 0, "limit": TREE_PAGE, **params}
            body = await self.get(None, path, query, decode=True) or {"items": [], "total": 0}
            self.loaded[path] = (len(body["items"]), body["total"])
        node = self.plan.path[self.plan.selected][1]
        await self.get(None, f"/api/v1/orgs/{node}", {}, cached=True)
        await self.get(None, *self.table(), cached=True)
        await self.alerts(measured=False)

    async def alerts(self, *, measured: bool = True) -> None:
        """The alert refresh (AlertWatch): open alerts, then maintenance windows."""
        params = {"active": "true", "offset": 0, "limit": MAX_ALERTS}
        await self.get("alerts" if measured else None, "/api/v1/alerts", params, cached=True)
        maintenance = "maintenance" if measured else None
        await self.get(maintenance, "/api/v1/maintenance-windows", {}, cached=True)

    async def refresh(self) -> None:
        """One live-refresh tick (MainWindow.refresh_now): the tree's levels one after the
        other (as the tree model reads them), the alert refresh, the detail pane's reads and
        the health check beside them."""

        async def tree() -> None:
            for kind, path, params in self.tree_levels():
                loaded, total = self.loaded[path]
                count = loaded + TREE_PAGE if loaded >= total else max(loaded, 1)
                query = {"offset": 0, "limit": min(count, TREE_REFRESH_CHUNK), **params}
                await self.get(kind, path, query, cached=True)

        node = self.plan.path[self.plan.selected][1]
        asked = [tree(), self.alerts(), self.get("agents table", *self.table(), cached=True)]
        if self.plan.ask_node:
            asked.append(self.get("status counts", f"/api/v1/orgs/{node}", {}, cached=True))
        await asyncio.gather(*asked, self.get("healthz", "/healthz", {}, auth=False))

    async def get(
        self,
        kind: str | None,
        path: str,
        params: dict,
        *,
        cached: bool = False,
        auth: bool = True,
        decode: bool = False,
    ) -> dict | None:
        """GET ``path``: its JSON when ``decode`` and answered 200, else None."""
        target = f"{path}?{urlencode(params)}" if params else path
        head = [f"GET {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if auth:
            head.append(f"Authorization: Bearer {self.token}")
        known = self.etags.get(target) if cached else None
        if known:
            head.append(f"If-None-Match: {known}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode()
        started = time.perf_counter()
        try:
            response = await self.exchange(request)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.result.errors.append(f"{path}: {exc.__class__.__name__} {exc}")
            return None
        ms = (time.perf_counter() - started) * 1000
        if kind is not None:
            self.result.latencies_ms.setdefault(kind, []).append(ms)
            self.result.statuses[response.status] = self.result.statuses.get(response.status, 0) + 1
        if response.status == 304 and known:
            self.result.not_modified += kind is not None
            return None
        if response.status != 200:
            self.result.errors.append(f"{path}: HTTP {response.status} {response.body[:200]!r}")
            return None
        if cached and "etag" in response.headers:
            self.etags[target] = response.headers["etag"]
        return json.loads(response.body) if decode else None

    async def exchange(self, request: bytes) -> Response:
        """One request on a kept-alive connection of this console's (a new one when all
        are busy: the refresh asks up to four things at once)."""
        if self.idle:
            reader, writer = self.idle.pop()
            writer.write(request)
            try:
                response = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                # Closed by the server while it idled (the consoles' opening outlasts its
                # idle timeout): what a client library does, on a new connection.
                writer.close()
                return await self.exchange(request)
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            writer.write(request)
            response = await read_response(reader)
        if response.headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append((reader, writer))
        return response

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
        self.idle.clear()


async def run_consoles(
    base_url: str, plans: list[ConsolePlan], seconds: float, interval: float, ready, go
) -> ConsoleResult:
    result = ConsoleResult()
    consoles = [Console(base_url, plan, result) for plan in plans]
    started = time.perf_counter()
    signing_in = asyncio.Semaphore(8)

    async def open_console(console: Console) -> None:
        async with signing_in:
            await console.sign_in()
        await console.open()

    await asyncio.gather(*(open_console(c) for c in consoles))
    result.sign_in_s = time.perf_counter() - started
    gc.collect()
    gc.freeze()
    ready.set()
    await asyncio.to_thread(go.wait)
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    end = started + seconds

    async def live(n: int, console: Console) -> None:
        due = started + interval * n / len(consoles)
        while due < end:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                result.late_refreshes += delay < -1.0
            await console.refresh()
            result.refreshes += 1
            due += interval

    await asyncio.gather(*(live(n, c) for n, c in enumerate(consoles)))
    result.seconds = time.perf_counter() - started
    result.load_cpu_s = _cpu_seconds() - cpu_before
    for console in consoles:
        console.close()
    return result


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def consoles_worker(base_url, plans, seconds, interval, pipe, ready, go) -> None:
    pipe.send(asyncio.run(run_consoles(base_url, plans, seconds, interval, ready, go)))


# --- phases ---------------------------------------------------------------------------------


def ingest_plan(tokens: list[str], args: argparse.Namespace, ts_base: int) -> dict:
    return {
        "tokens": tokens,
        "per_request": 1,
        "requests": int(args.rate * args.seconds),
        "ts_base": ts_base,
        "concurrency": args.concurrency,
        "rate": args.rate,
    }


class PhaseStamps:
    """The ingest plans of successive phases. Each starts its samples at now less
    ``--sample-age``, but after every sample of the phases before it (a phase sends each agent
    ``requests / agents`` samples, a second apart), so no two phases send the same
    ``(agent, ts)`` whatever the rate, the agents and the phases' length."""

    def __init__(self, tokens: list[str], args: argparse.Namespace) -> None:
        self._tokens, self._args = tokens, args
        self._free = 0  # the first timestamp no earlier phase used

    def plan(self) -> dict:
        base = max(int(time.time()) - self._args.sample_age, self._free)
        plan = ingest_plan(self._tokens, self._args, base)
        self._free = base + -(-plan["requests"] // len(self._tokens))
        return plan


def reference(server: IngestProcess, plan: dict) -> tuple[LoadResult, float]:
    """The ingest load alone; its result and the load average at its end."""
    database = database_cpu_seconds()
    result = server.measure(plan)
    result.database_cpu_s = database_cpu_seconds() - database
    return result, os.getloadavg()[0]


def database_cpu_seconds() -> float:
    """CPU used so far by the MariaDB/MySQL server on this machine (0 if there is none)."""
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("mariadbd", "mysqld"):
            times = process.cpu_times()
            return times.user + times.system
    return 0.0


def together(
    server: IngestProcess, plan: dict, plans: list[ConsolePlan], args: argparse.Namespace
) -> tuple[LoadResult, ConsoleResult, float]:
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    ingest = start_load(server.port, plan, go)
    parent, child = ctx.Pipe(duplex=False)
    ready = ctx.Event()
    consoles = ctx.Process(
        target=consoles_worker,
        args=(server.url, plans, args.seconds, args.interval, child, ready, go),
    )
    consoles.start()
    for event, what in ((ingest.ready, "the ingest load"), (ready, "the consoles")):
        while not event.wait(1.0):
            if not consoles.is_alive() or not ingest.process.is_alive():
                raise SystemExit(f"{what} did not get ready")
    before, database = server.cpu_seconds(), database_cpu_seconds()
    go.set()
    console_result = parent.recv()
    consoles.join()
    ingest_result = ingest.result()
    ingest_result.server_cpu_s = server.cpu_seconds() - before
    ingest_result.database_cpu_s = database_cpu_seconds() - database
    return ingest_result, console_result, os.getloadavg()[0]


# --- report ---------------------------------------------------------------------------------


def machine_line() -> str:
    memory = psutil.virtual_memory().total / 1024**3
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB,"
        f" load {load}; Python {platform.python_version()}; {platform.platform()}"
    )


def verdict(ms: float, target: float) -> str:
    return "ok" if ms < target else "MISSED"


def describe_consoles(r: ConsoleResult) -> str:
    requests = sum(len(v) for v in r.latencies_ms.values())
    lines = [
        f"consoles: {r.refreshes} refreshes, {requests} requests in {r.seconds:.1f} s"
        f" ({requests / r.seconds:,.0f} req/s), statuses {dict(sorted(r.statuses.items()))}"
        f" ({r.not_modified} not modified), errors {len(r.errors)},"
        f" refreshes started over 1 s late {r.late_refreshes};"
        f" sign-in and first load of all consoles {r.sign_in_s:.1f} s;"
        f" the consoles' client CPU over the phase {r.load_cpu_s:.1f} s"
    ]
    for kind, got in sorted(r.latencies_ms.items()):
        p50, p99 = percentiles(got)
        lines.append(f"    {kind:14} n={len(got):6}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    lines += [f"    error: {e}" for e in r.errors[:5]]
    return "\n".join(lines)


def report(refs: list[tuple[LoadResult, float]], both: tuple, args) -> None:
    ingest, consoles, load_both = both
    api50, api99 = percentiles(consoles.api_latencies_ms)
    in50, in99 = percentiles(ingest.latencies_ms)
    print(f"\nfigures (ms; {args.consoles} consoles every {args.interval:g} s,")
    print(f"ingest paced at {args.rate:,.0f} req/s; load average (1 min) at each phase's end):")
    print(f"  {'':44}{'p50':>8}{'p99':>8}   target     load")
    print(
        f"  {'console API, with the agents ingesting':44}{api50:8.1f}{api99:8.1f}"
        f"   p99 <{CONSOLE_P99_TARGET_MS} {verdict(api99, CONSOLE_P99_TARGET_MS):6}"
        f" {load_both:5.1f}"
    )
    print(
        f"  {'ingest, with the consoles refreshing':44}{in50:8.1f}{in99:8.1f}"
        f"   p99 <{INGEST_P99_TARGET_MS} {verdict(in99, INGEST_P99_TARGET_MS):6} {load_both:5.1f}"
    )
    for n, (ref, load) in enumerate(refs, start=1):
        r50, r99 = percentiles(ref.latencies_ms)
        label = f"ingest alone (reference {n})"
        print(
            f"  {label:44}{r50:8.1f}{r99:8.1f}"
            f"   p99 <{INGEST_P99_TARGET_MS} {verdict(r99, INGEST_P99_TARGET_MS):6} {load:5.1f}"
        )
    alone_cpu = sum(ref.server_cpu_s for ref, _load in refs) / len(refs)
    requests = sum(len(v) for v in consoles.latencies_ms.values())
    extra_ms = 1000 * (ingest.server_cpu_s - alone_cpu)
    print(
        f"  server CPU: {ingest.server_cpu_s:.1f} s with the consoles, {alone_cpu:.1f} s without"
        f" (mean of the references): about {extra_ms / max(1, requests):.1f} ms per console"
        f" request, {extra_ms / max(1, consoles.refreshes):.1f} ms per refresh"
    )
    alone_db = sum(ref.database_cpu_s for ref, _load in refs) / len(refs)
    print(
        f"  database CPU (a local MariaDB's): {ingest.database_cpu_s:.1f} s with the consoles,"
        f" {alone_db:.1f} s without; the consoles' client {consoles.load_cpu_s:.1f} s,"
        f" the ingest load's {ingest.load_cpu_s:.1f} s (incl. building its requests);"
        f" {os.cpu_count()} cores x {ingest.seconds:.1f} s ="
        f" {(os.cpu_count() or 1) * ingest.seconds:.1f} s in all"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="an already seeded demo fleet")
    parser.add_argument(
        "--server-url",
        default="mysql+pymysql://root@127.0.0.1:3306/",
        help="MySQL/MariaDB server for the scratch database",
    )
    parser.add_argument("--agents", type=int, default=100, help="per branch, when seeding")
    parser.add_argument("--consoles", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0, help="live refresh, seconds")
    parser.add_argument("--seconds", type=float, default=60.0, help="each phase")
    parser.add_argument("--rate", type=float, default=1700.0, help="ingest requests/s")
    parser.add_argument("--ingest-agents", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=128, help="ingest connections")
    parser.add_argument("--processes", type=int, default=2, help="argos-ingest processes")
    parser.add_argument("--flush-ms", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--ask-node", action="store_true", help=ASK_NODE_HELP)
    parser.add_argument("--sample-age", type=int, default=0, help=SAMPLE_AGE_HELP)
    args = parser.parse_args()

    print(f"machine: {machine_line()}")
    print(f"parameters: {vars(args)}")
    url, drop, note = prepare_database(args)
    server = None
    try:
        print(f"database: {make_url(url).render_as_string()} ({note})")
        plans, created = plan_consoles(url, args.consoles, args.ask_node)
        tokens = ingest_tokens(url, args.ingest_agents)
        print(f"{len(plans)} consoles ({created} accounts created); {len(tokens):,} agents ingest")
        server = IngestProcess(url, args.processes, args.flush_ms)
        print(f"server: argos-ingest on {server.url}, --processes {args.processes}")
        refs, stamps = [], PhaseStamps(tokens, args)
        print(f"reference 1 (load {os.getloadavg()[0]:.1f} before):")
        refs.append(reference(server, stamps.plan()))
        print("  " + describe("ingest alone", refs[-1][0]))
        print(f"together (load {os.getloadavg()[0]:.1f} before):")
        both = together(server, stamps.plan(), plans, args)
        print("  " + describe("ingest beside the consoles", both[0]))
        print("  " + describe_consoles(both[1]))
        print(f"reference 2 (load {os.getloadavg()[0]:.1f} before):")
        refs.append(reference(server, stamps.plan()))
        print("  " + describe("ingest alone", refs[-1][0]))
        report(refs, both, args)
    finally:
        if server is not None:
            print(f"server exit code after SIGTERM: {server.stop()}")
        drop()


if __name__ == "__main__":
    main()
