"""A value the database refuses is the sender's mistake: a 400 naming the column, whatever
class the driver files the error under (PyMySQL files MariaDB's failed CHECK, 4025, with lost
connections as an ``OperationalError``). Only an outage is a 503."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ingest_server.errors import translate
from tests.factories import add_agent


@pytest.fixture
def agent_uuid(services, session_factory, superadmin) -> str:
    tenant = services.orgs.create_tenant(superadmin, "Refusals")
    company = services.orgs.create_company(superadmin, tenant.org_id, "Refusals Co")
    branch = services.orgs.create_branch(superadmin, company.org_id, "Refusals Branch")
    return add_agent(session_factory, branch.org_id, "refused-host")


def refusal(session_factory, statement: str, **params) -> DBAPIError:
    with session_factory() as session:
        with pytest.raises(DBAPIError) as caught:
            session.execute(text(statement), params)
        session.rollback()
    return caught.value


def answer(exc: Exception):
    return translate(exc, db_retry_after=2, busy_retry_after=1)


CASES = {
    "mysql": [
        ("ip_addresses", '["\\ud83d"]'),  # CHECK (json_valid(...)): 4025
        ("cpu_count", 99_999_999_999),  # out of range: 1264
        ("hostname", "x" * 1000),  # data too long: 1406
        ("hostname", None),  # column cannot be null: 1048
    ],
    "sqlite": [("hostname", None)],  # NOT NULL constraint failed
}


def test_a_refused_value_is_a_400_naming_the_column_not_a_503(
    db_backend, session_factory, agent_uuid
):
    for column, value in CASES[db_backend]:
        exc = refusal(
            session_factory,
            f"UPDATE agents SET {column} = :v WHERE uuid = :a",
            v=value,
            a=agent_uuid,
        )
        error = answer(exc)
        assert error is not None, exc
        assert (error.status_code, error.details[0]["field"]) == (400, column), str(exc)
