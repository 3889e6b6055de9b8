"""Everything a handler needs, built once by ``IngestRuntime`` and passed to ``make_app``."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field

from argos_core.bootstrap import Services
from argos_core.housekeeping import DEFAULT_SLEEP_COEF, Retention
from argos_core.tokens import TokenSigner
from ingest_server.auth import CREDENTIALS_TTL_S, AgentAuthenticator
from ingest_server.enroll_throttle import EnrollmentThrottle
from ingest_server.health import DatabaseHealth
from ingest_server.metrics import IngestMetrics
from ingest_server.rate_limit import RateLimiter
from ingest_server.writer import GroupCommitWriter

MIB = 1024 * 1024
HARD_BODY_CAP = 64 * MIB  # no request body beyond this is read, whatever the endpoint
ADDRESS_SLOTS = 1 << 14  # source addresses with recent failed enrollments


@dataclass(frozen=True)
class IngestConfig:
    max_body_bytes: int = 2 * MIB
    agent_rate: float = 2.0
    agent_burst: float = 20.0
    max_batch_rows: int = 5000
    max_delay_s: float = 0.005
    max_pending_rows: int = 100_000
    credentials_ttl_s: float = CREDENTIALS_TTL_S  # a report interval change waits this long
    otlp_key_ttl_s: float = 30.0
    busy_retry_after_s: int = 1
    db_retry_after_s: int = 2
    health_probe_interval_s: float = 5.0
    health_retry_interval_s: float = 0.5
    access_token_ttl_s: int = 15 * 60
    principal_ttl_s: float = 5.0  # how long a person's derived rights may be cached
    shared_answer_ttl_s: float = 2.0  # ETag'd console reads shared by a scope (0: never)
    tls_cert: str | None = None  # with tls_key: serve HTTPS
    tls_key: str | None = None
    alert_evaluate_interval_s: float = 0.5
    alert_absence_interval_s: float = 10.0
    alert_delivery_interval_s: float = 1.0
    alert_renotify_after_s: float = 3600.0  # 0: never remind
    alert_group_window_s: float = 30.0  # offline alerts wait this long for their branch
    housekeeping_interval_s: float = 300.0
    housekeeping_sleep_coef: float = DEFAULT_SLEEP_COEF  # rest per transaction, x its time
    retention: Retention = field(
        default_factory=Retention
    )  # what housekeeping keeps of raw samples and rollups
    enroll_failure_rate: float = 0.1  # failed enrollments a second per source address
    enroll_failure_burst: float = 10.0  # and at once; then 429 until it refills
    idle_timeout_s: float = 30.0  # to send a request's headers, from connect or last answer
    body_timeout_s: float = 30.0  # to send a request's body
    max_connections: int = 4096  # open at once, per worker process
    stop_timeout_s: float = 30.0  # to finish accepted work on SIGTERM, then exit anyway


@dataclass(frozen=True)
class Limiters:
    """Rate limits shared by every worker process: create them before forking."""

    agents: RateLimiter
    enroll_failures: RateLimiter  # by source address

    @classmethod
    def of(cls, config: IngestConfig) -> Limiters:
        return cls(
            RateLimiter(config.agent_rate, config.agent_burst),
            RateLimiter(
                config.enroll_failure_rate, config.enroll_failure_burst, slots=ADDRESS_SLOTS
            ),
        )


@dataclass
class IngestContext:
    config: IngestConfig
    services: Services
    signer: TokenSigner
    metrics: IngestMetrics
    health: DatabaseHealth
    auth: AgentAuthenticator
    limiter: RateLimiter
    enroll_throttle: EnrollmentThrottle
    writer: GroupCommitWriter
    executor: Executor
    inflight: int = 0
    stopping: bool = False
