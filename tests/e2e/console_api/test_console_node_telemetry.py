"""A node's agents together over HTTP: aggregate series and top agents, scoped like the rest."""

from __future__ import annotations

HOUR = 1_764_000_000 // 3600 * 3600  # the hour of each tenant's one sample (cpu 5 %)
RANGE = {"since": HOUR - 3600, "until": HOUR + 7200}


def test_a_branch_aggregate_counts_its_agents_and_averages_their_metrics(make_client, tenants):
    a, _ = tenants
    admin = make_client(a.admin)
    for node in (a.tenant, a.company, a.branch):
        answer = admin.get(f"/api/v1/orgs/{node}/telemetry", params=RANGE)
        assert answer.status_code == 200, answer.text
        series = answer.json()
        assert series["org_id"] == node and series["bucket_s"] == 3600
        at = series["ts"].index(HOUR)
        assert series["agents_reporting"][at] == 1
        assert series["average"]["cpu_percent"][at] == series["maximum"]["cpu_percent"][at] == 5.0
        assert sum(series["agents_reporting"]) == 1


def test_top_agents_of_a_node(make_client, tenants):
    a, _ = tenants
    admin = make_client(a.viewer)
    answer = admin.get(
        f"/api/v1/orgs/{a.tenant}/top-agents", params={**RANGE, "metric": "cpu_percent"}
    )
    assert answer.status_code == 200, answer.text
    [top] = answer.json()
    assert (top["uuid"], top["branch_org_id"], top["average"]) == (a.agent, a.branch, 5.0)


def test_bad_queries_are_clear_400s(make_client, tenants):
    a, _ = tenants
    admin = make_client(a.admin)
    for path, params in [
        (f"/api/v1/orgs/{a.branch}/top-agents", {**RANGE, "metric": "net_rx_bytes"}),
        (f"/api/v1/orgs/{a.branch}/top-agents", {**RANGE, "metric": "cpu_percent", "limit": 0}),
        (f"/api/v1/orgs/{a.branch}/telemetry", {"since": RANGE["until"], "until": RANGE["since"]}),
        (f"/api/v1/orgs/{a.branch}/telemetry", {"since": "yesterday", "until": RANGE["until"]}),
    ]:
        answer = admin.get(path, params=params)
        assert (answer.status_code, answer.json()["error"]) == (400, "bad_request"), (
            params,
            answer.text,
        )
