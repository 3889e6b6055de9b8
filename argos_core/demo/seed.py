"""A reproducible demo fleet with telemetry history, fast enough for 100,000 agents.

The hierarchy is bulk-inserted level by level; telemetry is generated inside the database
(``INSERT ... SELECT`` over a minutes table) so millions of samples never cross the driver.
The same ``seed`` gives the same names, org ids, hosts, statuses and curves.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, func, insert, select

from argos_core import org_ids, passwords
from argos_core.demo.history import generate_telemetry
from argos_core.errors import Conflict, ValidationError
from argos_core.models import (
    Agent,
    Branch,
    Company,
    OrgIdRegistry,
    PlatformAdmin,
    Tenant,
    utcnow,
)
from argos_core.services.audit import record
from argos_core.settings import DEFAULT_REPORT_INTERVAL_S

DEMO_SUPERADMIN = "demo"
DEMO_PASSWORD = "argos-demo-2026"
# Seeded agents have no process behind them; the demo heartbeat recognises them by this.
DEMO_MACHINE_PREFIX = "demo-"
MAX_AGENTS = 1_000_000
AGENTS_PER_COMMIT = 20

TENANT_NAMES = [
    "Northwind MSP",
    "Contoso IT",
    "Blue Harbor",
    "Initech Services",
    "Globex",
    "Umbrella Systems",
    "Stark Ops",
    "Wayne Digital",
    "Cyberdyne",
    "Tyrell Group",
]
COMPANY_WORDS = [
    "Acme",
    "Vertex",
    "Summit",
    "Pioneer",
    "Aurora",
    "Beacon",
    "Cobalt",
    "Delta",
    "Evergreen",
    "Falcon",
    "Granite",
    "Horizon",
    "Ironwood",
    "Juniper",
    "Keystone",
]
COMPANY_SUFFIXES = [
    "Logistics",
    "Health",
    "Retail",
    "Foods",
    "Legal",
    "Energy",
    "Media",
    "Labs",
    "Finance",
    "Builders",
]
CITIES = [
    "Berlin",
    "Paris",
    "Madrid",
    "Lisbon",
    "Vienna",
    "Prague",
    "Oslo",
    "Dublin",
    "Rome",
    "Warsaw",
    "Zurich",
    "Lyon",
    "Porto",
    "Munich",
    "Milan",
    "Krakow",
    "Ghent",
    "Turin",
]
ROLES = ["web", "db", "app", "cache", "mail", "file", "ws", "print", "vpn", "build"]
OSES = [
    "Ubuntu 24.04 LTS",
    "Debian 12",
    "Windows Server 2022",
    "Windows 11 Pro",
    "Rocky Linux 9",
    "macOS 15",
]


@dataclass(frozen=True)
class DemoSummary:
    tenants: int
    companies: int
    branches: int
    agents: int
    samples: int
    superadmin: str
    first_branch_org_id: str


def seed_demo(
    engine: Engine,
    *,
    tenants: int = 3,
    companies: int = 3,
    branches: int = 3,
    agents: int = 10,
    days: float = 1,
    telemetry_agents: int | None = None,
    seed: int = 42,
    now: datetime | None = None,
) -> DemoSummary:
    """Create the demo superadmin and a fleet of ``tenants x companies x branches x agents``.

    ``days`` of 1-minute telemetry is generated for the first ``telemetry_agents`` agents
    (all of them by default). Refuses to run twice on the same database.
    """
    for label, value in (("tenants", tenants), ("companies", companies), ("branches", branches)):
        if not 1 <= value <= 1000:
            raise ValidationError(f"--{label} must be between 1 and 1000.")
    if not agents >= 0 or tenants * companies * branches * agents > MAX_AGENTS:
        raise ValidationError(f"The demo fleet may hold at most {MAX_AGENTS:,} agents.")
    if not 0 <= days <= 400:
        raise ValidationError("--days must be between 0 and 400.")
    rng = random.Random(seed)
    now = (now or utcnow()).replace(microsecond=0)
    with engine.begin() as conn:
        if conn.scalar(
            select(func.count())
            .select_from(PlatformAdmin)
            .where(PlatformAdmin.username == DEMO_SUPERADMIN)
        ):
            raise Conflict("This database already holds the demo data.")
        conn.execute(
            insert(PlatformAdmin),
            [
                {
                    "username": DEMO_SUPERADMIN,
                    "password_hash": passwords.hash_password(DEMO_PASSWORD),
                    "is_active": True,
                    "failed_login_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        taken = set(conn.scalars(select(OrgIdRegistry.org_id)))
        tenant_rows = _insert_level(
            conn,
            Tenant,
            "tenant",
            taken,
            rng,
            now,
            [{"name": _tenant_name(i)} for i in range(tenants)],
        )
        company_rows = _insert_level(
            conn,
            Company,
            "company",
            taken,
            rng,
            now,
            [
                {
                    "name": f"{COMPANY_WORDS[(t * 7 + c) % len(COMPANY_WORDS)]} "
                    f"{COMPANY_SUFFIXES[(t + c) % len(COMPANY_SUFFIXES)]}"
                    + (f" {c // len(COMPANY_SUFFIXES) + 1}" if c >= len(COMPANY_SUFFIXES) else ""),
                    "tenant_id": tid,
                }
                for t, tid in enumerate(tenant_rows)
                for c in range(companies)
            ],
        )
        company_tenant = dict(
            conn.execute(
                select(Company.id, Company.tenant_id).where(Company.id.in_(company_rows))
            ).all()
        )
        branch_rows = _insert_level(
            conn,
            Branch,
            "branch",
            taken,
            rng,
            now,
            [
                {
                    "name": CITIES[b % len(CITIES)]
                    + (f" {b // len(CITIES) + 1}" if b >= len(CITIES) else ""),
                    "company_id": cid,
                    "tenant_id": company_tenant[cid],
                }
                for cid in company_rows
                for b in range(branches)
            ],
        )
        agent_count = _insert_agents(conn, branch_rows, agents, rng, now)
        first_branch = conn.scalar(select(Branch.org_id).where(Branch.id == branch_rows[0]))
        record_demo = {
            "tenants": tenants,
            "companies": companies,
            "branches": branches,
            "agents_per_branch": agents,
            "days": days,
        }
    samples = generate_telemetry(engine, days, telemetry_agents, now, seed) if days else 0
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(conn) as session:
            record(
                session,
                "system",
                "demo.seed",
                "platform",
                "demo",
                None,
                after=record_demo,
                source="argos-admin demo seed",
            )
            session.commit()
    return DemoSummary(
        tenants,
        tenants * companies,
        len(branch_rows),
        agent_count,
        samples,
        DEMO_SUPERADMIN,
        first_branch,
    )


def _tenant_name(i: int) -> str:
    base = TENANT_NAMES[i % len(TENANT_NAMES)]
    return base if i < len(TENANT_NAMES) else f"{base} {i // len(TENANT_NAMES) + 1}"


def _insert_level(
    conn: Connection,
    model,
    kind: str,
    taken: set[str],
    rng: random.Random,
    now: datetime,
    rows: list[dict],
) -> list[int]:
    ids = []
    for row in rows:
        while True:
            candidate = "".join(rng.choice(org_ids.ALPHABET) for _ in range(org_ids.DEFAULT_LENGTH))
            if candidate not in taken:
                taken.add(candidate)
                break
        row.update(org_id=candidate, created_at=now, updated_at=now)
        ids.append(candidate)
    conn.execute(
        insert(OrgIdRegistry), [{"org_id": o, "kind": kind, "created_at": now} for o in ids]
    )
    conn.execute(insert(model), rows)
    by_org = dict(conn.execute(select(model.org_id, model.id).where(model.org_id.in_(ids))).all())
    return [by_org[o] for o in ids]


def _insert_agents(
    conn: Connection, branch_ids: list[int], per_branch: int, rng: random.Random, now: datetime
) -> int:
    if not per_branch:
        return 0
    ancestry = {
        b: (t, c)
        for b, t, c in conn.execute(
            select(Branch.id, Branch.tenant_id, Branch.company_id).where(Branch.id.in_(branch_ids))
        )
    }
    batch: list[dict] = []
    total = 0
    for branch_index, branch_id in enumerate(branch_ids):
        tenant_id, company_id = ancestry[branch_id]
        for n in range(per_branch):
            role = ROLES[n % len(ROLES)]
            batch.append(
                _agent_row(
                    rng,
                    now,
                    tenant_id,
                    company_id,
                    branch_id,
                    f"{role}-{branch_index:04d}-{n + 1:03d}",
                )
            )
            if len(batch) >= 5000:
                conn.execute(insert(Agent), batch)
                total += len(batch)
                batch.clear()
    if batch:
        conn.execute(insert(Agent), batch)
        total += len(batch)
    return total


def _agent_row(
    rng: random.Random,
    now: datetime,
    tenant_id: int,
    company_id: int,
    branch_id: int,
    hostname: str,
) -> dict:
    roll = rng.random()
    last_seen: datetime | None = now - timedelta(seconds=rng.randint(0, 25))
    revoked = None
    if roll > 0.97:
        revoked = now - timedelta(days=rng.randint(1, 20))
    elif roll > 0.94:
        last_seen = None
    elif roll > 0.90:
        last_seen = now - timedelta(minutes=rng.randint(40, 3000))
    elif roll > 0.85:
        last_seen = now - timedelta(minutes=rng.randint(3, 25))
    return {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "tenant_id": tenant_id,
        "company_id": company_id,
        "branch_id": branch_id,
        "machine_id": f"{DEMO_MACHINE_PREFIX}{rng.getrandbits(64):016x}",
        "hostname": hostname,
        "os": rng.choice(OSES),
        "agent_version": "1.0.0",
        "ip_addresses": [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"],
        "cpu_count": rng.choice([2, 4, 8, 16, 32]),
        "memory_total_bytes": rng.choice([4, 8, 16, 32, 64, 128]) * 1024**3,
        "boot_time": now - timedelta(days=rng.randint(1, 90)),
        "report_interval_s": DEFAULT_REPORT_INTERVAL_S,
        "enrolled_at": now - timedelta(days=rng.randint(30, 400)),
        "updated_at": now,
        "last_seen": last_seen,
        "revoked_at": revoked,
    }
