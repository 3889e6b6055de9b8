"""Node-loss drills on a local Galera cluster with two Argos servers behind haproxy.

    python benchmarks/galera_drills.py [--agents 12] [--observe 5] [--json]

Starts a 3-node cluster and haproxy with ``deploy/galera/argos-galera`` (in its own
directory, removed afterwards), migrates it, starts two ``argos-ingest`` instances on free
ports behind haproxy's HTTP front, and enrolls ``--agents`` agents through it. Each agent
sends ``--samples`` samples per request every ``--interval`` seconds and, like the real
agent, sends the same samples again (same timestamps) until they are acknowledged. Drills,
one after another while the agents keep sending:

  kill-db-node     SIGKILL haproxy's current database node, then start it again (it rejoins
                   and catches up)
  kill-server      SIGKILL one argos-ingest instance, then start it again
  stop-target      shut haproxy's current database node down cleanly, then start it again

After each drill the agents pause, every node is asked (``wsrep_sync_wait``) for the rows
of the fleet, and the drill prints: samples acknowledged (200) during the drill, rows on
every node, lost (acknowledged, not stored on a node), duplicated (stored more than once),
5xx answers, other failures (connection reset, timeout: retried), and stall time (the
longest time without any acknowledgement since the drill's action).

A benchmark prints figures; it asserts nothing (tests/e2e/test_galera_drills.py does).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from argos_core.bootstrap import bootstrap
from argos_core.db import make_engine
from argos_core.migrate import upgrade
from argos_core.scope import Principal

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "deploy" / "galera" / "argos-galera"
DRILLS = ("kill-db-node", "kill-server", "stop-target")
ADMIN = Principal("drills", "superadmin", source="drills")


@dataclass
class DrillResult:
    name: str
    detail: str = ""
    acknowledged: int = 0
    rows_per_node: list[int] = field(default_factory=list)
    acknowledged_total: int = 0
    lost: int = 0
    duplicated: int = 0
    server_errors: int = 0
    other_failures: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # by status or exception
    stall_s: float = 0.0


class Cluster:
    """``argos-galera`` in a directory of its own."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def run(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [sys.executable, str(CLUSTER), "--dir", str(self.dir), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"argos-galera {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def status(self) -> dict:
        return json.loads(self.run("status", "--json"))

    def target(self) -> int:
        servers = self.status()["haproxy"]["servers"]
        return int(next(s["name"] for s in servers if s["target"]).removeprefix("node"))


class Server:
    """One ``argos-ingest`` instance as a child process."""

    def __init__(self, url: str, port: int, secret: str, log: Path) -> None:
        self.url, self.port, self.secret, self.log = url, port, secret, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "ARGOS_SECRET_KEY": self.secret, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ingest_server.main", "--database-url", self.url,
                 "--port", str(self.port), "--agent-rate", "0", "--log-level", "WARNING"],
                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
            )  # fmt: skip
        _wait(lambda: _answers(f"http://127.0.0.1:{self.port}/healthz"), 30, f"server {self.port}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Fleet:
    """Agents sending samples through haproxy until told to stop; every acknowledgement and
    every failed answer is recorded with its time."""

    def __init__(self, front: str, agents: list[tuple[str, str]], args) -> None:
        self.front = front
        self.agents = agents  # (agent uuid, token)
        self.samples, self.interval = args.samples, args.interval
        self.acked: dict[str, set[int]] = {a: set() for a, _ in agents}
        self.ack_times: list[float] = []
        self.failures: list[tuple[float, str]] = []
        self.running = asyncio.Event()
        self.running.set()
        self.busy = 0
        self.stopped = False
        self.start_ts = int(time.time()) - 86_400

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=len(self.agents) + 4)
        async with httpx.AsyncClient(base_url=self.front, timeout=20, limits=limits) as client:
            await asyncio.gather(*(self._agent(client, i) for i in range(len(self.agents))))

    async def _agent(self, client: httpx.AsyncClient, index: int) -> None:
        agent, token = self.agents[index]
        ts = self.start_ts
        headers = {"Authorization": f"Bearer {token}"}
        while not self.stopped:
            await self.running.wait()
            if self.stopped:
                return
            batch = list(range(ts, ts + self.samples))
            body = {"samples": [{"ts": t, "cpu_percent": 1.0} for t in batch]}
            self.busy += 1
            try:
                reply = await client.post("/api/v1/telemetry", json=body, headers=headers)
                status = str(reply.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            finally:
                self.busy -= 1
            now = time.monotonic()
            if status == "200":
                self.acked[agent].update(batch)
                self.ack_times.append(now)
                ts += self.samples
            else:
                self.failures.append((now, status))
            await asyncio.sleep(self.interval)

    async def pause(self) -> None:
        self.running.clear()
        while self.busy:
            await asyncio.sleep(0.05)

    def total(self) -> int:
        return sum(len(s) for s in self.acked.values())


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready within {timeout:.0f} s")
        time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def enroll_fleet(front: str, branch: str, key: str, count: int) -> list[tuple[str, str]]:
    agents = []
    for i in range(count):
        reply = httpx.post(
            f"{front}/api/v1/enroll",
            json={
                "branch_org_id": branch,
                "enrollment_key": key,
                "hostname": f"drill-{i}",
                "machine_id": f"drill-{secrets.token_hex(8)}",
                "os": "Linux",
                "agent_version": "drill",
            },
            timeout=30,
        )
        reply.raise_for_status()
        agents.append((reply.json()["agent_id"], reply.json()["token"]))
    return agents


def rows_on_nodes(status: dict, agent_ids: list[int]) -> list[dict[int, list[int]]]:
    """Per node: each agent's stored timestamps, read after the node has applied every
    write set the cluster committed (``wsrep_sync_wait``)."""
    ids = ",".join(str(i) for i in agent_ids)
    found = []
    for node in status["nodes"]:
        engine = create_engine(f"mysql+pymysql://root@127.0.0.1:{node['sql_port']}/argos")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SET SESSION wsrep_sync_wait = 1")
                rows = conn.execute(
                    text(f"SELECT agent_id, ts FROM telemetry WHERE agent_id IN ({ids})")
                ).all()
        finally:
            engine.dispose()
        per_agent: dict[int, list[int]] = {}
        for agent_id, ts in rows:
            per_agent.setdefault(agent_id, []).append(ts)
        found.append(per_agent)
    return found


async def drill(name: str, cluster: Cluster, servers: list[Server], fleet: Fleet, args, ids):
    result = DrillResult(name)
    acked_before = fleet.total()
    failures_before = len(fleet.failures)
    fleet.running.set()
    await asyncio.sleep(args.observe)
    action = time.monotonic()
    if name in ("kill-db-node", "stop-target"):
        node = await asyncio.to_thread(cluster.target)
        verb = "kill-node" if name == "kill-db-node" else "stop-node"
        await asyncio.to_thread(cluster.run, verb, str(node))
        await asyncio.sleep(args.observe)
        started = time.monotonic()
        await asyncio.to_thread(cluster.run, "start-node", str(node))
        result.detail = f"node{node}; back Synced {time.monotonic() - started:.1f} s after start"
    else:
        await asyncio.to_thread(servers[0].kill)
        await asyncio.sleep(args.observe)
        await asyncio.to_thread(servers[0].start)
        result.detail = f"server on port {servers[0].port}"
    await asyncio.sleep(args.observe)
    end = time.monotonic()
    await fleet.pause()
    times = [action, *(t for t in fleet.ack_times if t > action), end]
    result.stall_s = round(max(b - a for a, b in itertools.pairwise(times)), 2)
    new_failures = fleet.failures[failures_before:]
    result.server_errors = sum(1 for _, s in new_failures if s.isdigit() and s >= "500")
    result.other_failures = len(new_failures) - result.server_errors
    for _, what in new_failures:
        result.failures[what] = result.failures.get(what, 0) + 1
    result.acknowledged = fleet.total() - acked_before
    result.acknowledged_total = fleet.total()
    await asyncio.to_thread(_wait, lambda: _all_synced(cluster), 60, "cluster Synced")
    nodes = await asyncio.to_thread(rows_on_nodes, cluster.status(), list(ids.values()))
    result.rows_per_node = [sum(len(v) for v in n.values()) for n in nodes]
    for per_agent in nodes:
        lost = dup = 0
        for agent, acked in fleet.acked.items():
            stored = per_agent.get(ids[agent], [])
            lost += len(acked - set(stored))
            dup += len(stored) - len(set(stored))
        result.lost, result.duplicated = max(result.lost, lost), max(result.duplicated, dup)
    return result


def _all_synced(cluster: Cluster) -> bool:
    return all(n["state"] == "Synced" for n in cluster.status()["nodes"])


async def run_drills(args, cluster: Cluster, servers: list[Server], front: str, agents, ids):
    fleet = Fleet(front, agents, args)
    load = asyncio.create_task(fleet.run())
    results = []
    try:
        for name in args.drills:
            results.append(await drill(name, cluster, servers, fleet, args, ids))
    finally:
        fleet.stopped = True
        fleet.running.set()
        await load
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=12)
    p.add_argument("--samples", type=int, default=5, help="samples per request")
    p.add_argument("--interval", type=float, default=0.1, help="seconds between requests")
    p.add_argument("--observe", type=float, default=5.0, help="seconds before/after actions")
    p.add_argument("--drills", nargs="+", choices=DRILLS, default=list(DRILLS))
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--cluster-dir",
        type=Path,
        help="use this running argos-galera cluster (started with two --ingest-port) and"
        " leave it running; default: start one of its own",
    )
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="argos-drills-"))
    work.chmod(0o755)  # the nodes may run as another user (argos-galera, run as root)
    cluster = Cluster(args.cluster_dir or work / "cluster")
    servers: list[Server] = []
    failed = True
    try:
        if args.cluster_dir is None:
            ports = [_free_port(), _free_port()]
            cluster.run("start", "--nodes", "3", *(f"--ingest-port={p}" for p in ports))
        status = cluster.status()
        ports = status["haproxy"]["ingest_ports"]
        url = status["database_url"]
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        services = bootstrap(url)
        name = f"Drills {secrets.token_hex(3)}"
        tenant = services.orgs.create_tenant(ADMIN, name)
        company = services.orgs.create_company(ADMIN, tenant.org_id, name)
        branch = services.orgs.create_branch(ADMIN, company.org_id, name)
        key = services.enrollment.issue_key(ADMIN, branch.org_id)
        secret = secrets.token_urlsafe(48)
        servers = [Server(url, port, secret, work / f"ingest-{port}.log") for port in ports]
        for server in servers:
            server.start()
        front = f"http://127.0.0.1:{status['haproxy']['http_port']}"
        _wait(lambda: _answers(f"{front}/healthz"), 30, "haproxy's HTTP front")
        agents = enroll_fleet(front, branch.org_id, key.key, args.agents)
        with services.engine.connect() as conn:
            ids = {
                uuid: agent_id
                for uuid, agent_id in conn.execute(text("SELECT uuid, id FROM agents"))
                if uuid in dict(agents)
            }
        services.close()
        results = asyncio.run(run_drills(args, cluster, servers, front, agents, ids))
        failed = False
    finally:
        for server in servers:
            server.stop()
        if args.cluster_dir is None:
            try:
                cluster.run("stop", *(["--keep-files"] if failed else []))
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
        if failed:
            print(f"the drills failed; logs kept in {work}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
        return 0
    print(
        f"Galera drills: 3 nodes, 2 argos-ingest behind haproxy, {args.agents} agents x "
        f"{args.samples} samples every {args.interval} s, {args.observe} s before/after each "
        f"action; {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    head = "drill          acked  rows on every node      lost dup  5xx other stall_s  detail"
    print(head)
    for r in results:
        print(
            f"{r.name:<14} {r.acknowledged:>5}  {'/'.join(map(str, r.rows_per_node)):<22}"
            f"  {r.lost:>4} {r.duplicated:>3} {r.server_errors:>4} {r.other_failures:>5}"
            f" {r.stall_s:>7.2f}  {r.detail}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
