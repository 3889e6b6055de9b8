import pytest

from argos_core.errors import NotFound, ValidationError
from argos_core.scope import Principal
from tests.factories import add_agent, add_samples

T0 = 1_790_000_000


@pytest.fixture
def agent(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    return add_agent(services.session_factory, branch.org_id, "web-01")


def test_raw_samples_in_range_come_back_in_order(services, superadmin, agent):
    samples = [
        {"ts": T0 + 60 * i, "cpu_percent": float(i), "net_rx_bytes": 1000 * i} for i in range(30)
    ]
    assert add_samples(services.session_factory, agent, samples) == 30
    assert add_samples(services.session_factory, agent, samples[:5]) == 0  # duplicates
    series = services.telemetry.telemetry_range(superadmin, agent, T0 + 600, T0 + 1200)
    assert series.bucket_s == 0
    assert series.ts == [T0 + 60 * i for i in range(10, 20)]
    assert series.metrics["cpu_percent"] == [float(i) for i in range(10, 20)]
    assert series.metrics["mem_percent"] == [None] * 10


def test_long_ranges_are_averaged_to_at_most_max_points(services, superadmin, agent):
    samples = [{"ts": T0 + 60 * i, "cpu_percent": float(i % 2) * 100} for i in range(2000)]
    add_samples(services.session_factory, agent, samples)
    series = services.telemetry.telemetry_range(
        superadmin, agent, T0, T0 + 2000 * 60, max_points=100
    )
    assert 0 < len(series) <= 100 and series.bucket_s == 1200
    assert all(v == pytest.approx(50.0) for v in series.metrics["cpu_percent"])


def test_bad_ranges_and_foreign_agents(services, agent):
    superadmin = Principal("root", "superadmin")
    with pytest.raises(ValidationError):
        services.telemetry.telemetry_range(superadmin, agent, T0, T0)
    stranger = Principal("x", "admin", tenant_id=999_999)
    with pytest.raises(NotFound):
        services.telemetry.telemetry_range(stranger, agent, T0, T0 + 60)
