"""Alerts over the console API: rules created and listed, alerts from accepted samples listed
and acknowledged, all scoped (another tenant's alert answers like an unknown one; viewers
read but cannot acknowledge)."""

from __future__ import annotations

from tests.e2e.support import post_json, wait_until

T0 = 1_790_000_000
WAIT_S = 30
CPU_RULE = {"metric": "cpu_percent", "comparison": "above", "threshold": 90}


def test_rules_and_alerts_over_the_console_api(console_server, make_client, tenants):
    a, b = tenants
    admin = make_client(a.admin)
    made = admin.post(
        "/api/v1/alert-rules", json={"node": a.branch, **CPU_RULE, "severity": "critical"}
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["node"], rule["node_kind"], rule["inherited"]) == (a.branch, "branch", False)
    assert [r["id"] for r in admin.get("/api/v1/alert-rules").json()] == [rule["id"]]
    bad = {"node": a.branch, **CPU_RULE, "metric": "bogus", "severity": "warning"}
    refused = admin.post("/api/v1/alert-rules", json=bad)
    assert refused.status_code == 400 and "Unknown metric" in refused.json()["message"]
    foreign = {"node": b.branch, "condition": "offline", "severity": "warning"}
    assert admin.post("/api/v1/alert-rules", json=foreign).status_code == 404

    reply = post_json(
        console_server.url,
        "/api/v1/telemetry",
        {"samples": [{"ts": T0, "cpu_percent": 99.0}]},
        token=a.agent_token,
    )
    assert reply.status == 200, reply.body
    assert wait_until(lambda: admin.get("/api/v1/alerts").json()["total"] == 1, WAIT_S)
    [alert] = admin.get("/api/v1/alerts", params={"severity": "critical"}).json()["items"]
    assert (alert["agent_id"], alert["value"], alert["state"]) == (a.agent, 99.0, "open")

    viewer = make_client(a.viewer)
    assert viewer.get("/api/v1/alerts").json()["items"][0]["id"] == alert["id"]
    ack_path = f"/api/v1/alerts/{alert['id']}/acknowledge"
    assert viewer.post(ack_path, json={"comment": "mine?"}).status_code == 403
    outsider = make_client(b.admin)
    assert outsider.get("/api/v1/alerts").json()["items"] == []
    assert outsider.post(ack_path, json={}).status_code == 404
    assert admin.post("/api/v1/alerts/999999999/acknowledge", json={}).status_code == 404
    assert admin.post("/api/v1/alerts/not-a-number/acknowledge", json={}).status_code == 404
    past = admin.post(ack_path, json={"until": "2000-01-01T00:00:00Z"})
    assert past.status_code == 400
    acked = admin.post(ack_path, json={"comment": "looking", "until": "2099-01-01T00:00:00Z"})
    assert acked.status_code == 200, acked.text
    assert (acked.json()["state"], acked.json()["ack_comment"]) == ("acknowledged", "looking")
    assert admin.get("/api/v1/alerts", params={"active": "false"}).json()["items"] == []


def test_channels_and_maintenance_windows_over_the_console_api(make_client, tenants):
    a, b = tenants
    admin = make_client(a.admin)
    hook = {"org_id": a.company, "kind": "webhook", "target": "https://hooks.example/a"}
    made = admin.post("/api/v1/alert-channels", json=hook)
    assert made.status_code == 201, made.text
    assert made.json()["node"] == a.company
    assert made.json()["id"] in [c["id"] for c in admin.get("/api/v1/alert-channels").json()]
    bad = admin.post("/api/v1/alert-channels", json={**hook, "target": "ftp://x"})
    assert bad.status_code == 400
    assert (
        admin.post("/api/v1/alert-channels", json={**hook, "org_id": b.company}).status_code == 404
    )
    window = {
        "node": a.branch,
        "start": "2026-12-01T22:00:00Z",
        "duration_s": 7200,
        "repeat": "daily",
        "timezone": "Europe/Berlin",
    }
    made = admin.post("/api/v1/maintenance-windows", json=window)
    assert made.status_code == 201, made.text
    assert (made.json()["starts_local"], made.json()["timezone"]) == (
        "2026-12-01T23:00:00",
        "Europe/Berlin",
    )
    for change in ({"timezone": "Nowhere/Else"}, {"start": "9999-12-31T23:00:00Z"}):
        assert (
            admin.post("/api/v1/maintenance-windows", json={**window, **change}).status_code == 400
        )
    viewer = make_client(a.viewer)
    assert viewer.post("/api/v1/maintenance-windows", json=window).status_code == 403
    assert len(viewer.get("/api/v1/maintenance-windows").json()) == 1


def test_channels_and_windows_are_removed_over_the_console_api_inside_the_scope(
    make_client, tenants
):
    a, b = tenants
    admin, outsider, viewer = make_client(a.admin), make_client(b.admin), make_client(a.viewer)
    hook = {"org_id": a.company, "kind": "webhook", "target": "https://hooks.example/a"}
    channel = admin.post("/api/v1/alert-channels", json=hook).json()["id"]
    window = {"node": a.branch, "start": "2026-12-01T22:00:00Z", "duration_s": 600}
    made = admin.post("/api/v1/maintenance-windows", json=window).json()["id"]
    for path in (f"/api/v1/alert-channels/{channel}", f"/api/v1/maintenance-windows/{made}"):
        assert outsider.call("DELETE", path).status_code == 404
        assert viewer.call("DELETE", path).status_code == 403
        gone = admin.call("DELETE", path)
        assert gone.status_code == 204, gone.text
        assert admin.call("DELETE", path).status_code == 404
    for bad in ("not-a-number", "99999999999999999999"):
        assert admin.call("DELETE", f"/api/v1/alert-channels/{bad}").status_code == 404
    assert channel not in [c["id"] for c in admin.get("/api/v1/alert-channels").json()]
    assert made not in [w["id"] for w in admin.get("/api/v1/maintenance-windows").json()]


def test_rules_are_overridden_for_a_subtree_and_switched_off_over_the_console_api(
    make_client, tenants
):
    a, b = tenants
    admin, outsider, viewer = make_client(a.admin), make_client(b.admin), make_client(a.viewer)
    rule = admin.post(
        "/api/v1/alert-rules", json={"node": a.company, **CPU_RULE, "severity": "warning"}
    ).json()
    overrides = f"/api/v1/alert-rules/{rule['id']}/overrides"
    made = admin.post(overrides, json={"node": a.branch, "threshold": 97, "severity": "critical"})
    assert made.status_code == 201, made.text
    override = made.json()
    assert (override["overrides_id"], override["node"], override["threshold"]) == (
        rule["id"],
        a.branch,
        97,
    )
    assert (override["severity"], override["enabled"], override["metric"]) == (
        "critical",
        True,
        "cpu_percent",
    )
    off = admin.post(overrides, json={"node": a.agent, "enabled": False})
    assert off.status_code == 201 and off.json()["enabled"] is False
    same_node = admin.post(overrides, json={"node": a.company, "enabled": False})
    assert same_node.status_code == 400 and "below the rule's own node" in same_node.text
    assert outsider.post(overrides, json={"node": b.branch}).status_code == 404
    assert viewer.post(overrides, json={"node": a.branch}).status_code == 403

    switch = f"/api/v1/alert-rules/{rule['id']}"
    assert outsider.call("PATCH", switch, json={"enabled": False}).status_code == 404
    assert viewer.call("PATCH", switch, json={"enabled": False}).status_code == 403
    assert admin.call("PATCH", switch, json={"enabled": "no"}).status_code == 400
    switched = admin.call("PATCH", switch, json={"enabled": False})
    assert switched.status_code == 200 and switched.json()["enabled"] is False
    listed = {r["id"]: r["enabled"] for r in admin.get("/api/v1/alert-rules").json()}
    assert listed[rule["id"]] is False and listed[override["id"]] is True
    assert admin.call("PATCH", "/api/v1/alert-rules/x", json={"enabled": True}).status_code == 404


def test_an_agents_rules_in_force_over_the_console_api_apply_overrides_and_scope(
    make_client, tenants
):
    a, b = tenants
    admin, outsider = make_client(a.admin), make_client(b.admin)
    rule = admin.post(
        "/api/v1/alert-rules", json={"node": a.tenant, **CPU_RULE, "severity": "warning"}
    ).json()
    admin.post(
        f"/api/v1/alert-rules/{rule['id']}/overrides", json={"node": a.branch, "threshold": 75}
    )
    path = f"/api/v1/agents/{a.agent}/alert-rules"
    [in_force] = [r for r in admin.get(path).json() if r["overrides_id"] == rule["id"]]
    assert (in_force["node"], in_force["threshold"]) == (a.branch, 75)
    assert rule["id"] not in [r["id"] for r in admin.get(path).json()]
    assert outsider.get(path).status_code == 404
