"""Branch enrollment keys and agent enrollment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from argos_core import org_ids, tokens
from argos_core.db import fresh
from argos_core.errors import AuthenticationFailed, NotFound, UnknownOrgId, ValidationError
from argos_core.models import Agent, Branch, EnrollmentKey, utcnow
from argos_core.repositories import Ancestry, ScopedRepository
from argos_core.scope import Principal
from argos_core.services import audit
from argos_core.services.agent_inventory import AgentInventory
from argos_core.services.dto import EnrollmentKeyInfo, EnrollResult, IssuedKey
from argos_core.settings import StatusPolicy
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

NOTE_MAX = 200
ADDRESS_MAX = 64
MAX_KEY_LIFETIME = timedelta(days=3650)
ENROLL_REFUSED = "Enrollment refused: unknown branch or invalid enrollment key."


@dataclass(frozen=True)
class KeyGrant:
    """An active enrollment key and its branch (OTLP intake: the key names the branch)."""

    key_id: int
    branch_id: int
    branch_org_id: str
    expires_at: datetime | None


@dataclass(frozen=True)
class ResourceAgent:
    """The agent an OTLP resource reports as, enrolled on first sight."""

    agent_id: int
    agent_uuid: str
    created: bool


class EnrollmentService:
    def __init__(self, session_factory: sessionmaker[Session], policy: StatusPolicy) -> None:
        self._sf = session_factory
        self._policy = policy

    @retrying
    def issue_key(
        self,
        principal: Principal,
        branch_org_id: str,
        *,
        expires_in: timedelta | None = timedelta(days=7),
        note: str = "",
    ) -> IssuedKey:
        """A new key for the branch. The secret is returned once; only its digest is stored."""
        principal.require_write()
        note = (note or "").strip()
        if len(note) > NOTE_MAX:
            raise ValidationError(f"Notes may have at most {NOTE_MAX} characters.")
        if expires_in is not None and not timedelta(0) < expires_in <= MAX_KEY_LIFETIME:
            raise ValidationError("Expiry must be in the future and at most ten years away.")
        secret = tokens.new_machine_secret()
        with UnitOfWork(self._sf) as uow:
            branch = ScopedRepository(uow.session, principal).find_branch(branch_org_id)
            expires_at = utcnow() + expires_in if expires_in is not None else None
            key = EnrollmentKey(
                branch_id=branch.id,
                key_hash=tokens.digest_secret(secret),
                note=note,
                created_by=principal.actor,
                expires_at=expires_at,
            )
            uow.session.add(key)
            uow.session.flush()
            audit.record(
                uow.session,
                principal,
                "enrollment_key.create",
                "enrollment_key",
                str(key.id),
                Ancestry.of(branch),
                after={"branch": branch.org_id, "note": note, "expires_at": _iso(expires_at)},
            )
            uow.commit()
            return IssuedKey(key.id, secret, branch.org_id, expires_at, note)

    @retrying(idempotent=True)
    def revoke_key(self, principal: Principal, key_id: int) -> None:
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            key = uow.session.scalar(repo.enrollment_keys().where(EnrollmentKey.id == key_id))
            if key is None:
                raise NotFound("No enrollment key with that id.")
            if key.revoked_at is None:
                key.revoked_at = utcnow()
                branch = uow.session.get(Branch, key.branch_id)
                audit.record(
                    uow.session,
                    principal,
                    "enrollment_key.revoke",
                    "enrollment_key",
                    str(key.id),
                    Ancestry.of(branch),
                    after={"revoked_at": _iso(key.revoked_at)},
                )
            uow.commit()

    def list_keys(self, principal: Principal, branch_org_id: str) -> list[EnrollmentKeyInfo]:
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            branch = repo.find_branch(branch_org_id)
            keys = uow.session.scalars(
                repo.enrollment_keys()
                .where(EnrollmentKey.branch_id == branch.id)
                .order_by(EnrollmentKey.created_at.desc(), EnrollmentKey.id.desc())
            ).all()
            now = utcnow()
            return [
                EnrollmentKeyInfo(
                    k.id,
                    branch.org_id,
                    k.note,
                    k.created_by,
                    k.created_at,
                    k.expires_at,
                    k.revoked_at,
                    k.last_used_at,
                    k.use_count,
                    _key_state(k, now),
                )
                for k in keys
            ]

    @retrying(idempotent=True)
    def enroll(
        self,
        branch_org_id: str,
        enrollment_key: str,
        inventory: AgentInventory,
        *,
        source: str = "",
    ) -> EnrollResult:
        """Enroll (or re-enroll) the host ``(branch, machine_id)``.

        ``source`` (``channel:address``, e.g. ``ingest:203.0.113.9``) goes to the audit log. A
        re-enrollment raises the agent's token epoch, so that tokens issued before it stop
        working, and keeps when and from which address it happened.

        Unknown branch and wrong, expired or revoked key all raise the same
        ``AuthenticationFailed`` so callers cannot probe which org ids exist. Idempotent (the
        host's agent is found by ``machine_id``), so it is re-run on a lost connection too;
        a re-run whose first try had committed counts the key's use twice.
        """
        if not isinstance(enrollment_key, str) or not enrollment_key:
            raise AuthenticationFailed(ENROLL_REFUSED)
        try:
            org_id = org_ids.normalize(branch_org_id)
        except UnknownOrgId as exc:
            raise AuthenticationFailed(ENROLL_REFUSED) from exc
        now = utcnow()
        address = source.partition(":")[2][:ADDRESS_MAX]
        digest = tokens.digest_secret(enrollment_key)
        for _attempt in range(2):
            with UnitOfWork(self._sf) as uow:
                session = uow.session
                # Counted first, before any read (a refusal below rolls it back): the key
                # row's write lock then orders concurrent enrollments with this key on MySQL
                # (an agent row's foreign key would otherwise share-lock it first, and two
                # such readers deadlock on the count), and SQLite queues them on its write
                # lock (a transaction that read first may not start writing: "database is
                # locked" at once).
                session.execute(
                    update(EnrollmentKey)
                    .where(EnrollmentKey.key_hash == digest)
                    .values(use_count=EnrollmentKey.use_count + 1, last_used_at=now)
                    .execution_options(synchronize_session=False)
                )
                row = session.execute(
                    select(Branch, EnrollmentKey)
                    .join(EnrollmentKey, EnrollmentKey.branch_id == Branch.id)
                    .where(Branch.org_id == org_id, EnrollmentKey.key_hash == digest)
                ).first()
                if row is None or _key_state(row.EnrollmentKey, now) != "active":
                    raise AuthenticationFailed(ENROLL_REFUSED)
                branch, key = row.Branch, row.EnrollmentKey
                agent = session.scalar(
                    select(Agent).where(
                        Agent.branch_id == branch.id, Agent.machine_id == inventory.machine_id
                    )
                )
                created = agent is None
                if agent is not None and agent.revoked_at is not None:
                    raise AuthenticationFailed("This agent has been revoked; it cannot re-enroll.")
                if agent is None:
                    agent = Agent(
                        uuid=str(uuid.uuid4()),
                        tenant_id=branch.tenant_id,
                        company_id=branch.company_id,
                        branch_id=branch.id,
                        machine_id=inventory.machine_id,
                        report_interval_s=self._policy.report_interval_s,
                    )
                    session.add(agent)
                _apply_inventory(agent, inventory)
                agent.enrollment_key_id = key.id
                if not created:  # tokens issued before stop working (counted in the database)
                    agent.token_epoch = Agent.token_epoch + 1
                    agent.re_enrolled_at = now
                    agent.re_enrolled_from = address
                try:
                    session.flush()
                except IntegrityError:
                    continue  # another request enrolled the same host; take its row next time
                audit.record(
                    session,
                    f"agent:{inventory.hostname}",
                    "agent.enroll" if created else "agent.re_enroll",
                    "agent",
                    agent.uuid,
                    Ancestry.of(agent),
                    after={"hostname": inventory.hostname, "key_id": key.id, "from": address},
                    source=source,
                )
                result = EnrollResult(
                    agent.uuid, created, agent.report_interval_s, agent.token_epoch
                )  # the epoch read back before the commit: this transaction's own
                uow.commit()
                return result
        raise AuthenticationFailed(ENROLL_REFUSED)

    @retrying
    def record_throttled(self, address: str, channel: str, failures: int) -> None:
        """Audit that ``address`` failed ``failures`` enrollments in a burst and is refused
        for a while (one entry per burst; superadmins see it, it belongs to no node)."""
        with UnitOfWork(self._sf) as uow:
            audit.record(
                uow.session,
                f"address:{address}",
                "enrollment.throttled",
                "address",
                address,
                None,
                after={"failed_enrollments": failures},
                source=f"{channel}:{address}",
            )
            uow.commit()

    def key_grant(self, enrollment_key: str) -> KeyGrant:
        """The branch of an active key (an OTLP request carries the key alone).

        Unknown, expired and revoked keys all raise the same ``AuthenticationFailed``.
        """
        if not isinstance(enrollment_key, str) or not enrollment_key:
            raise AuthenticationFailed(ENROLL_REFUSED)
        with UnitOfWork(self._sf) as uow:
            row = uow.session.execute(
                select(EnrollmentKey, Branch.org_id)
                .join(Branch, Branch.id == EnrollmentKey.branch_id)
                .where(EnrollmentKey.key_hash == tokens.digest_secret(enrollment_key))
            ).first()
            if row is None or _key_state(row.EnrollmentKey, utcnow()) != "active":
                raise AuthenticationFailed(ENROLL_REFUSED)
            key = row.EnrollmentKey
            return KeyGrant(key.id, key.branch_id, row.org_id, key.expires_at)

    def enroll_resource(
        self, enrollment_key: str, inventory: AgentInventory, *, source: str = ""
    ) -> ResourceAgent:
        """The agent of ``inventory.machine_id`` in the key's branch (OTLP intake).

        A new host, or one whose inventory changed, goes through ``enroll`` (same rules and
        audit as an agent); a known, unchanged host costs one read and writes nothing.
        """
        grant = self.key_grant(enrollment_key)
        known = self.known_resource(grant, inventory)
        if known is not None:
            return known
        result = self.enroll(grant.branch_org_id, enrollment_key, inventory, source=source)
        with UnitOfWork(self._sf) as uow:
            agent_id = uow.session.scalar(
                fresh(select(Agent.id).where(Agent.uuid == result.agent_uuid))
            )
        if agent_id is None:
            raise AuthenticationFailed("This agent has been revoked or no longer exists.")
        return ResourceAgent(agent_id, result.agent_uuid, result.created)

    def known_resource(self, grant: KeyGrant, inventory: AgentInventory) -> ResourceAgent | None:
        """The agent of ``inventory.machine_id`` in the grant's branch if it is enrolled with
        this very inventory, else None (``enroll_resource`` is then needed). Reads only."""
        with UnitOfWork(self._sf) as uow:
            agent = uow.session.scalar(
                select(Agent).where(
                    Agent.branch_id == grant.branch_id, Agent.machine_id == inventory.machine_id
                )
            )
            if agent is not None and agent.revoked_at is not None:
                raise AuthenticationFailed("This agent has been revoked; it cannot re-enroll.")
            if agent is not None and _inventory_of(agent) == inventory:
                return ResourceAgent(agent.id, agent.uuid, False)
            return None


def _inventory_of(agent: Agent) -> AgentInventory:
    return AgentInventory(
        hostname=agent.hostname,
        machine_id=agent.machine_id,
        os=agent.os,
        agent_version=agent.agent_version,
        ip_addresses=tuple(agent.ip_addresses or ()),
        cpu_count=agent.cpu_count,
        memory_total_bytes=agent.memory_total_bytes,
        boot_time=agent.boot_time,
        source=agent.source,
    )


def _apply_inventory(agent: Agent, inv: AgentInventory) -> None:
    agent.hostname = inv.hostname
    agent.os = inv.os
    agent.agent_version = inv.agent_version
    agent.ip_addresses = list(inv.ip_addresses)
    agent.cpu_count = inv.cpu_count
    agent.memory_total_bytes = inv.memory_total_bytes
    agent.boot_time = inv.boot_time
    agent.source = inv.source


def _key_state(key: EnrollmentKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
