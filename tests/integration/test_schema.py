"""Migrations are the schema: upgrade is idempotent and agrees with the models."""

import pytest
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from argos_core.db import make_engine
from argos_core.migrate import current_revision, drift, head_revision, upgrade
from argos_core.models import Company, OrgIdRegistry, Telemetry, Tenant, utcnow


@pytest.fixture
def fresh_engine(fresh_database_url):
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def test_upgrade_is_idempotent_and_reaches_head(fresh_engine):
    assert upgrade(fresh_engine) == head_revision()
    assert upgrade(fresh_engine) == head_revision()
    assert current_revision(fresh_engine) == head_revision()


def test_models_and_migrations_do_not_drift(fresh_engine):
    assert drift(fresh_engine) == []


def test_seed_tables_exist_with_their_names(fresh_engine):
    tables = set(inspect(fresh_engine).get_table_names())
    assert {
        "platform_admins",
        "tenants",
        "companies",
        "branches",
        "users",
        "agents",
        "telemetry",
        "enrollment_keys",
        "audit_log",
        "org_ids",
    } <= tables


def test_telemetry_is_unique_per_agent_and_second():
    assert [c.name for c in Telemetry.__table__.primary_key.columns] == ["agent_id", "ts"]


def test_an_org_id_cannot_be_reused_by_another_kind_of_node(fresh_engine):
    now = utcnow()
    with fresh_engine.begin() as conn:
        conn.execute(insert(OrgIdRegistry).values(org_id="ABCDE", kind="tenant", created_at=now))
        conn.execute(
            insert(Tenant).values(org_id="ABCDE", name="T", created_at=now, updated_at=now)
        )
    tenant_id = 1
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(
            insert(Company).values(
                org_id="ABCDE", tenant_id=tenant_id, name="C", created_at=now, updated_at=now
            )
        )
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(
            insert(Tenant).values(org_id="ABCDE", name="T2", created_at=now, updated_at=now)
        )
