"""SQLAlchemy 2 declarative models: the single source of the schema (Alembic follows it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_MAX = 100
USERNAME_MAX = 64
HOSTNAME_MAX = 255
ORG_ID_MAX = 8
SOURCE_AGENT = "Argos agent"
SOURCE_OPENTELEMETRY = "OpenTelemetry"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC: no local time ever reaches the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


IntPK = Annotated[int, mapped_column(Integer, primary_key=True, autoincrement=True)]
CreatedAt = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
UpdatedAt = Annotated[
    datetime, mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
]
Name = Annotated[str, mapped_column(String(NAME_MAX), nullable=False)]
OrgIdRef = Annotated[str, mapped_column(String(ORG_ID_MAX), unique=True)]
OrgKind = Annotated[str, mapped_column(String(10))]


def org_id_claim(kind: str) -> tuple[ForeignKeyConstraint, CheckConstraint]:
    """Tie a node's org id to a registry row of its own kind.

    With ``org_kind`` pinned to the table's kind, a company cannot point at a tenant's
    registry row, so one org id can belong to one node of one table only.
    """
    return (
        ForeignKeyConstraint(
            ["org_id", "org_kind"],
            ["org_ids.org_id", "org_ids.kind"],
            name=f"fk_{kind}_org_id_claim",
            ondelete="RESTRICT",
        ),
        CheckConstraint(f"org_kind = '{kind}'", name="org_kind"),
    )


BigInt = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Every table is InnoDB utf8mb4 on MySQL whatever the server's defaults are.
MYSQL_TABLE = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
}


class OrgIdRegistry(Base):
    """Every org id ever handed out, whatever its kind.

    Tenants, companies and branches each reference a row here with a unique foreign key,
    so the primary key of this table is what makes org ids globally unique: two processes
    racing for the same id collide on the database, not on a check-then-insert.
    """

    __tablename__ = "org_ids"

    org_id: Mapped[str] = mapped_column(String(ORG_ID_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("kind IN ('tenant', 'company', 'branch')", name="kind"),
        UniqueConstraint("org_id", "kind", name="uq_org_ids_org_id_kind"),
        MYSQL_TABLE,
    )


class PlatformAdmin(Base):
    __tablename__ = "platform_admins"

    id: Mapped[IntPK]
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = MYSQL_TABLE


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[IntPK]
    org_id: Mapped[OrgIdRef]
    org_kind: Mapped[OrgKind] = mapped_column(default="tenant", server_default="tenant")
    name: Mapped[Name] = mapped_column(unique=True)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (*org_id_claim("tenant"), MYSQL_TABLE)


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[IntPK]
    org_id: Mapped[OrgIdRef]
    org_kind: Mapped[OrgKind] = mapped_column(default="company", server_default="company")
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    name: Mapped[Name]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (*org_id_claim("company"), UniqueConstraint("tenant_id", "name"), MYSQL_TABLE)


class Branch(Base):
    __tablename__ = "branches"

    id: Mapped[IntPK]
    org_id: Mapped[OrgIdRef]
    org_kind: Mapped[OrgKind] = mapped_column(default="branch", server_default="branch")
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    name: Mapped[Name]
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (*org_id_claim("branch"), UniqueConstraint("company_id", "name"), MYSQL_TABLE)


class User(Base):
    """A client admin: belongs to one tenant, scoped to the tenant, one company or one branch."""

    __tablename__ = "users"

    id: Mapped[IntPK]
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10))
    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True
    )
    branch_id: Mapped[int | None] = mapped_column(
        ForeignKey("branches.id", ondelete="RESTRICT"), index=True
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (CheckConstraint("role IN ('admin', 'viewer')", name="role"), MYSQL_TABLE)


class EnrollmentKey(Base):
    """A branch's enrollment key. Only the SHA-256 digest of the secret is kept."""

    __tablename__ = "enrollment_keys"

    id: Mapped[IntPK]
    branch_id: Mapped[int] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[CreatedAt]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    use_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = MYSQL_TABLE


class Agent(Base):
    """An enrolled host. ``(branch_id, machine_id)`` identifies it; ``uuid`` is its public id.

    ``tenant_id``/``company_id`` repeat the branch's ancestry so scope filters and per-node
    counts are single indexed predicates on a fleet of 100,000 agents.
    """

    __tablename__ = "agents"

    id: Mapped[IntPK]
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"))
    machine_id: Mapped[str] = mapped_column(String(128))
    hostname: Mapped[str] = mapped_column(String(HOSTNAME_MAX))
    os: Mapped[str] = mapped_column(String(255), default="")
    agent_version: Mapped[str] = mapped_column(String(64), default="")
    ip_addresses: Mapped[list[str] | None] = mapped_column(JSON)
    cpu_count: Mapped[int | None] = mapped_column(Integer)
    memory_total_bytes: Mapped[int | None] = mapped_column(BigInteger)
    boot_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report_interval_s: Mapped[int] = mapped_column(Integer, default=30)
    enrollment_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrollment_keys.id", ondelete="SET NULL")
    )
    enrolled_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What reports for this host: the Argos agent, or OpenTelemetry over OTLP.
    source: Mapped[str] = mapped_column(
        String(32), default=SOURCE_AGENT, server_default=SOURCE_AGENT
    )
    # Raised by each re-enrollment: a token carries the epoch it was issued in and stops
    # working once the host enrolls again (from wherever that was: re_enrolled_from).
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    re_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    re_enrolled_from: Mapped[str] = mapped_column(String(64), default="", server_default="")

    __table_args__ = (
        UniqueConstraint("branch_id", "machine_id"),
        # A node's agents table by hostname (the console's default) reads in index order.
        Index("ix_agents_branch_id_hostname", "branch_id", "hostname"),
        Index("ix_agents_company_hostname", "company_id", "hostname"),
        Index("ix_agents_tenant_hostname", "tenant_id", "hostname"),
        # Per-node counts by status read only these columns: index-only scans.
        Index("ix_agents_tenant_status", "tenant_id", "revoked_at", "last_seen"),
        Index("ix_agents_company_status", "company_id", "revoked_at", "last_seen"),
        # Covers hostname search with the scope columns: an index-only scan, no row lookups.
        Index("ix_agents_hostname_scope", "hostname", "tenant_id", "company_id", "branch_id"),
        MYSQL_TABLE,
    )


# Four bytes on MySQL (up to 2106): ``ts`` leads every raw row and the primary key.
UnixSeconds = BigInteger().with_variant(mysql.INTEGER(unsigned=True), "mysql", "mariadb")


class Telemetry(Base):
    """One sample. ``ts`` is Unix seconds (UTC); the primary key makes ``(agent, ts)`` unique
    and clusters each agent's history for range scans.

    On MySQL the table is RANGE-partitioned by day on ``ts`` (``argos_core.partitions``), and
    partitioned InnoDB tables cannot carry foreign keys: deleting an agent deletes its
    telemetry explicitly (``argos_core.telemetry_purge``).
    """

    __tablename__ = "telemetry"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[int] = mapped_column(UnixSeconds, primary_key=True, autoincrement=False)
    cpu_percent: Mapped[float | None] = mapped_column(Float)
    mem_percent: Mapped[float | None] = mapped_column(Float)
    disk_percent: Mapped[float | None] = mapped_column(Float)
    net_rx_bytes: Mapped[int | None] = mapped_column(BigInteger)
    net_tx_bytes: Mapped[int | None] = mapped_column(BigInteger)
    load_1m: Mapped[float | None] = mapped_column(Float)
    uptime_s: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = MYSQL_TABLE


ROLLUP_METRICS = (
    "cpu_percent",
    "mem_percent",
    "disk_percent",
    "load_1m",
    "net_rx_rate",
    "net_tx_rate",
)


class TelemetryHourly(Base):
    """The rollup tier: one row per agent and hour (``hour`` is its start, Unix seconds).

    Per metric the minimum, average and maximum of the hour's samples; the network counters
    as per-second rates between consecutive samples. ``samples`` counts the raw rows.
    """

    __tablename__ = "telemetry_hourly"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    samples: Mapped[int] = mapped_column(Integer)
    cpu_percent_min: Mapped[float | None] = mapped_column(Float)
    cpu_percent_avg: Mapped[float | None] = mapped_column(Float)
    cpu_percent_max: Mapped[float | None] = mapped_column(Float)
    mem_percent_min: Mapped[float | None] = mapped_column(Float)
    mem_percent_avg: Mapped[float | None] = mapped_column(Float)
    mem_percent_max: Mapped[float | None] = mapped_column(Float)
    disk_percent_min: Mapped[float | None] = mapped_column(Float)
    disk_percent_avg: Mapped[float | None] = mapped_column(Float)
    disk_percent_max: Mapped[float | None] = mapped_column(Float)
    load_1m_min: Mapped[float | None] = mapped_column(Float)
    load_1m_avg: Mapped[float | None] = mapped_column(Float)
    load_1m_max: Mapped[float | None] = mapped_column(Float)
    net_rx_rate_min: Mapped[float | None] = mapped_column(Float)
    net_rx_rate_avg: Mapped[float | None] = mapped_column(Float)
    net_rx_rate_max: Mapped[float | None] = mapped_column(Float)
    net_tx_rate_min: Mapped[float | None] = mapped_column(Float)
    net_tx_rate_avg: Mapped[float | None] = mapped_column(Float)
    net_tx_rate_max: Mapped[float | None] = mapped_column(Float)

    __table_args__ = MYSQL_TABLE


class TelemetryBranchHourly(Base):
    """The node tier: one row per branch and hour, built from the branch's agents' hourly
    rows in the same pass, so a company or tenant reads its branches' rows instead of every
    agent's.

    Per metric the lowest minimum and highest maximum of the agents' hours, and the sum and
    count of their hourly averages (the average across agents is ``sum / n``, summed over
    branches first). ``agents`` counts the agents with a row that hour.
    """

    __tablename__ = "telemetry_branch_hourly"

    branch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    agents: Mapped[int] = mapped_column(Integer)
    cpu_percent_min: Mapped[float | None] = mapped_column(Float)
    cpu_percent_sum: Mapped[float] = mapped_column(Double)
    cpu_percent_n: Mapped[int] = mapped_column(Integer)
    cpu_percent_max: Mapped[float | None] = mapped_column(Float)
    mem_percent_min: Mapped[float | None] = mapped_column(Float)
    mem_percent_sum: Mapped[float] = mapped_column(Double)
    mem_percent_n: Mapped[int] = mapped_column(Integer)
    mem_percent_max: Mapped[float | None] = mapped_column(Float)
    disk_percent_min: Mapped[float | None] = mapped_column(Float)
    disk_percent_sum: Mapped[float] = mapped_column(Double)
    disk_percent_n: Mapped[int] = mapped_column(Integer)
    disk_percent_max: Mapped[float | None] = mapped_column(Float)
    load_1m_min: Mapped[float | None] = mapped_column(Float)
    load_1m_sum: Mapped[float] = mapped_column(Double)
    load_1m_n: Mapped[int] = mapped_column(Integer)
    load_1m_max: Mapped[float | None] = mapped_column(Float)
    net_rx_rate_min: Mapped[float | None] = mapped_column(Float)
    net_rx_rate_sum: Mapped[float] = mapped_column(Double)
    net_rx_rate_n: Mapped[int] = mapped_column(Integer)
    net_rx_rate_max: Mapped[float | None] = mapped_column(Float)
    net_tx_rate_min: Mapped[float | None] = mapped_column(Float)
    net_tx_rate_sum: Mapped[float] = mapped_column(Double)
    net_tx_rate_n: Mapped[int] = mapped_column(Integer)
    net_tx_rate_max: Mapped[float | None] = mapped_column(Float)

    __table_args__ = MYSQL_TABLE


class TelemetryDaily(Base):
    """The daily tier for ranking agents: one row per agent and closed day (``day`` is its
    start). Per ranked metric the sum of the day's hourly averages weighted by their
    samples, that weight, and the highest maximum."""

    __tablename__ = "telemetry_daily"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cpu_percent_wsum: Mapped[float] = mapped_column(Double)
    cpu_percent_weight: Mapped[int] = mapped_column(BigInteger)
    cpu_percent_max: Mapped[float | None] = mapped_column(Float)
    mem_percent_wsum: Mapped[float] = mapped_column(Double)
    mem_percent_weight: Mapped[int] = mapped_column(BigInteger)
    mem_percent_max: Mapped[float | None] = mapped_column(Float)
    disk_percent_wsum: Mapped[float] = mapped_column(Double)
    disk_percent_weight: Mapped[int] = mapped_column(BigInteger)
    disk_percent_max: Mapped[float | None] = mapped_column(Float)

    __table_args__ = MYSQL_TABLE


class TelemetryStaleBranch(Base):
    """A branch whose node-tier rows for ``since <= hour < until`` no longer match its
    agents (an agent moved in or out, or was deleted). Reads take those branches from the
    agents' rows until housekeeping rebuilds them."""

    __tablename__ = "telemetry_stale_branches"

    branch_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    since: Mapped[int] = mapped_column(BigInteger)
    until: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = MYSQL_TABLE


class TelemetryLateHour(Base):
    """An agent's hour that received samples after it closed: the rollup job re-rolls it."""

    __tablename__ = "telemetry_late_hours"

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    __table_args__ = MYSQL_TABLE


class TelemetryMark(Base):
    """Where the tiers stand: ``rolled_until`` (hours before it are rolled up) and
    ``raw_horizon`` (raw samples before it have been dropped)."""

    __tablename__ = "telemetry_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = MYSQL_TABLE


class Job(Base):
    """A lease row: the process that moved ``until`` into the future runs the job, once
    across processes and hosts (``UPDATE jobs SET owner=..., until=... WHERE name=...
    AND until < now``)."""

    __tablename__ = "jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), default="")
    until: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = MYSQL_TABLE


class AuditLog(Base):
    """Who changed what, when and from where; written in the same transaction as the change.

    The scope columns copy the target's place in the hierarchy so the log is scoped like
    everything else.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(100))
    tenant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(100), default="")

    __table_args__ = MYSQL_TABLE


class ConsoleSession(Base):
    """A person signed in to the console API: one per login, ended by logout or revocation.

    Exactly one of ``user_id`` and ``platform_admin_id`` names the account; deleting the
    account deletes its sessions. Refresh tokens live in ``session_refresh_tokens``.
    """

    __tablename__ = "sessions"

    id: Mapped[IntPK]
    session_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform_admin_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform_admins.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[CreatedAt]
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(100), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        CheckConstraint(
            "(user_id IS NULL AND platform_admin_id IS NOT NULL)"
            " OR (user_id IS NOT NULL AND platform_admin_id IS NULL)",
            name="one_account",
        ),
        MYSQL_TABLE,
    )


class SessionRefreshToken(Base):
    """Every refresh token a session was given, as a SHA-256 digest: the rotation chain.

    Refreshing spends the presented token and adds its successor; presenting a spent one
    again means it was copied, so the whole session is revoked.
    """

    __tablename__ = "session_refresh_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_pk: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    issued_at: Mapped[CreatedAt]
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = MYSQL_TABLE


# --- alerts (issue 12) -----------------------------------------------------------------------


class NodeRef:
    """The node a rule, channel or maintenance window is attached to: its ancestry ids, the
    deepest non-null one naming the node (``agent_id`` only for an agent)."""

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))


class AlertRule(NodeRef, Base):
    """A rule on a node, inherited by everything under it.

    An override is a row with ``overrides_id`` set, on a node below the rule it overrides:
    for that subtree it replaces the rule (a disabled override switches it off).
    """

    __tablename__ = "alert_rules"

    id: Mapped[IntPK]
    overrides_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True
    )
    # CONDITION and REPEAT are reserved words in MySQL: the columns have other names.
    condition: Mapped[str] = mapped_column("rule_condition", String(10))
    metric: Mapped[str | None] = mapped_column(String(32))
    comparison: Mapped[str | None] = mapped_column(String(5))
    threshold: Mapped[float | None] = mapped_column(Float)
    recover_at: Mapped[float | None] = mapped_column(Float)
    for_s: Mapped[int] = mapped_column(Integer, default=0)
    samples: Mapped[int] = mapped_column(Integer, default=1)
    severity: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[CreatedAt]
    updated_at: Mapped[UpdatedAt]

    __table_args__ = (
        CheckConstraint("rule_condition IN ('threshold', 'offline', 'overdue')", name="condition"),
        CheckConstraint("severity IN ('warning', 'critical')", name="severity"),
        Index("ix_alert_rules_tenant_id", "tenant_id"),
        MYSQL_TABLE,
    )


class Alert(Base):
    """One problem of one agent under one rule, from opening to resolution.

    ``open_key`` is ``"<rule>:<agent>"`` while the alert is unresolved and NULL after: its
    unique index lets one alert at most be open per rule and agent, whichever process or
    host evaluates.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int] = mapped_column(Integer)
    branch_id: Mapped[int] = mapped_column(Integer)
    open_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(12))
    condition: Mapped[str] = mapped_column("rule_condition", String(10))
    severity: Mapped[str] = mapped_column(String(10))
    rule_text: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str | None] = mapped_column(String(32))
    threshold: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[str | None] = mapped_column(String(100))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_comment: Mapped[str | None] = mapped_column(String(500))
    acked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("state IN ('open', 'acknowledged', 'resolved')", name="state"),
        Index("ix_alerts_tenant_scope", "tenant_id", "company_id", "branch_id"),
        Index("ix_alerts_agent_id", "agent_id", "opened_at"),
        MYSQL_TABLE,
    )


class NotifyChannel(NodeRef, Base):
    """Where a node's alerts are sent: a webhook URL or an e-mail address."""

    __tablename__ = "notify_channels"

    id: Mapped[IntPK]
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))
    min_severity: Mapped[str] = mapped_column(String(10), default="warning")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("kind IN ('webhook', 'email')", name="kind"),
        CheckConstraint("min_severity IN ('warning', 'critical')", name="min_severity"),
        Index("ix_notify_channels_tenant_id", "tenant_id"),
        MYSQL_TABLE,
    )


class MaintenanceWindow(NodeRef, Base):
    """A period without notifications for alerts under a node.

    ``starts_local`` is a wall-clock time in ``timezone``: a daily or weekly window opens at
    that local time on each day (or weekday), across DST changes.
    """

    __tablename__ = "maintenance_windows"

    id: Mapped[IntPK]
    starts_local: Mapped[datetime] = mapped_column(DateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    duration_s: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[str] = mapped_column("repeats", String(10), default="none")
    comment: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[CreatedAt]

    __table_args__ = (
        CheckConstraint("repeats IN ('none', 'daily', 'weekly')", name="repeats"),
        Index("ix_maintenance_windows_tenant_id", "tenant_id"),
        MYSQL_TABLE,
    )


class NotificationOutbox(Base):
    """A notification to deliver, written in the same transaction as the alert change.

    Delivery marks ``sent_at`` only after the receiver took it (at least once); a failure
    moves ``next_attempt_at`` forward with backoff. ``outcome`` is ``sent``, or
    ``suppressed`` for an alert that opened and resolved inside a maintenance window.
    """

    __tablename__ = "notification_outbox"

    id: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(
        BigInt, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[CreatedAt]
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(12), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")

    __table_args__ = (
        Index("ix_notification_outbox_due", "sent_at", "next_attempt_at"),
        MYSQL_TABLE,
    )
