"""The console API's JSON encoding: every service dataclass survives a trip through JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from argos_core.services import dto
from argos_core.services.wire import WireError, decode, encode, parse_datetime, to_json
from argos_core.status import AgentStatus

AT = datetime(2026, 11, 30, 12, 34, 56, 789000, tzinfo=UTC)
COUNTS = dto.StatusCounts(online=3, offline=1, overdue=0, never_seen=2, revoked=1)
SUMMARY = dto.AgentSummary(
    uuid="6f1c2b0e-0000-4000-8000-000000000001",
    hostname="web-01",
    branch_org_id="K7Q2M9",
    os="Linux 6.1",
    agent_version="1.0.0",
    ip_addresses=["10.0.0.1", "fe80::1"],
    status=AgentStatus.ONLINE,
    last_seen=AT,
    enrolled_at=AT - timedelta(days=3),
    revoked_at=None,
    branch_name="Lyon",
)
NODE = dto.OrgNode(
    kind="company",
    org_id="C0MP4N",
    name="Acme",
    parent_org_id="T3N4NT",
    child_count=2,
    counts=COUNTS,
    created_at=AT,
)
EXAMPLES: list[tuple[object, object]] = [
    (COUNTS, dto.StatusCounts),
    (dto.StatusCounts(), dto.StatusCounts),
    (NODE, dto.OrgNode),
    (dataclasses.replace(NODE, kind="tenant", parent_org_id=None), dto.OrgNode),
    (dto.OrgChoice(kind="branch", org_id="B4NCH1", name="Lyon", path="Acme / Est"), dto.OrgChoice),
    (SUMMARY, dto.AgentSummary),
    (
        dataclasses.replace(SUMMARY, status=AgentStatus.REVOKED, last_seen=None, revoked_at=AT),
        dto.AgentSummary,
    ),
    (
        dto.AgentDetail(
            summary=SUMMARY,
            machine_id="abc",
            tenant_org_id="T3N4NT",
            company_org_id="C0MP4N",
            cpu_count=8,
            memory_total_bytes=17_179_869_184,
            boot_time=AT - timedelta(hours=5),
            report_interval_s=30,
            enrollment_key_id=4,
            enrollment_key_note="rack 2",
            re_enrolled_at=AT - timedelta(minutes=3),
            re_enrolled_from="2001:db8::7",
        ),
        dto.AgentDetail,
    ),
    (
        dto.AgentDetail(
            summary=SUMMARY,
            machine_id="abc",
            tenant_org_id="T3N4NT",
            company_org_id="C0MP4N",
            cpu_count=None,
            memory_total_bytes=None,
            boot_time=None,
            report_interval_s=30,
            enrollment_key_id=None,
            enrollment_key_note=None,
        ),
        dto.AgentDetail,
    ),
    (dto.Page(items=[NODE, NODE], total=10, offset=4), dto.Page[dto.OrgNode]),
    (dto.Page(items=[SUMMARY], total=1, offset=0), dto.Page[dto.AgentSummary]),
    (dto.Page(items=[], total=0, offset=0), dto.Page[dto.UserInfo]),
    (
        dto.SearchHit(
            kind="agent",
            key=SUMMARY.uuid,
            name="web-01",
            path=["T3N4NT", "C0MP4N", "B4NCH1"],
            status=AgentStatus.OVERDUE,
            path_names=["Tenant", "Acme", "Lyon"],
        ),
        dto.SearchHit,
    ),
    (dto.SearchHit(kind="tenant", key="T3N4NT", name="T", path=[], status=None), dto.SearchHit),
    (
        dto.TelemetrySeries(
            agent_uuid=SUMMARY.uuid,
            start=1_764_000_000,
            end=1_764_003_600,
            bucket_s=60,
            ts=[1_764_000_000, 1_764_000_060],
            metrics={"cpu_percent": [12.5, None], "net_rx_bytes": [1234.0, 99.0]},
        ),
        dto.TelemetrySeries,
    ),
    (
        dto.TelemetrySeries(
            agent_uuid=SUMMARY.uuid,
            start=1_764_000_000,
            end=1_795_536_000,
            bucket_s=18_000,
            ts=[1_764_000_000],
            metrics={"cpu_percent": [12.5], "net_rx_rate": [None]},
            resolution="hourly",
            minimum={"cpu_percent": [2.0], "net_rx_rate": [None]},
            maximum={"cpu_percent": [70.25], "net_rx_rate": [None]},
        ),
        dto.TelemetrySeries,
    ),
    (
        dto.NodeSeries(
            org_id="B4NCH1",
            start=1_764_000_000,
            end=1_766_592_000,
            bucket_s=3600,
            ts=[1_764_000_000, 1_764_003_600],
            agents_reporting=[98, 100],
            average={"cpu_percent": [21.5, None]},
            maximum={"cpu_percent": [99.0, None]},
        ),
        dto.NodeSeries,
    ),
    (
        dto.TopAgent(
            uuid=SUMMARY.uuid, hostname="web-01", branch_org_id="B4NCH1", average=61.5, maximum=None
        ),
        dto.TopAgent,
    ),
    (
        dto.IssuedKey(key_id=7, key="s3cret", branch_org_id="B4NCH1", expires_at=None, note=""),
        dto.IssuedKey,
    ),
    (
        dto.EnrollmentKeyInfo(
            key_id=7,
            branch_org_id="B4NCH1",
            note="rack 2",
            created_by="superadmin:root",
            created_at=AT,
            expires_at=AT + timedelta(days=7),
            revoked_at=None,
            last_used_at=AT,
            use_count=12,
            state="active",
        ),
        dto.EnrollmentKeyInfo,
    ),
    (
        dto.EnrollResult(agent_uuid=SUMMARY.uuid, created=True, report_interval_s=30),
        dto.EnrollResult,
    ),
    (
        dto.UserInfo(
            username="alice",
            role="viewer",
            scope_kind="branch",
            scope_org_id="B4NCH1",
            is_active=True,
            created_at=AT,
            last_login_at=None,
        ),
        dto.UserInfo,
    ),
    (
        dto.UserInfo(
            username="root",
            role="superadmin",
            scope_kind="platform",
            scope_org_id=None,
            is_active=False,
            created_at=AT,
            last_login_at=AT,
        ),
        dto.UserInfo,
    ),
    (
        dto.AuditEntry(
            at=AT,
            actor="user:alice",
            action="org.rename",
            target_kind="company",
            target="C0MP4N",
            before={"name": "Old", "nested": [1, None]},
            after={"name": "New"},
            source="192.0.2.7",
        ),
        dto.AuditEntry,
    ),
    (
        dto.Me("alice", "admin", "company", "C0MP4N", "Acme", "T3N4NT"),
        dto.Me,
    ),
    (dto.Me("root", "superadmin", "platform", None, None, None), dto.Me),
    (
        dto.SessionInfo("s3ss10n", AT, AT + timedelta(minutes=3), "192.0.2.7", True),
        dto.SessionInfo,
    ),
    (
        dto.SignedIn(
            "header.claims.signature",
            "opaque",
            900,
            dto.Me("alice", "viewer", "branch", "B4NCH1", "Lyon", "T3N4NT"),
        ),
        dto.SignedIn,
    ),
]


def _all_dtos() -> set[type]:
    return {
        obj
        for obj in vars(dto).values()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == dto.__name__
    }


def test_every_dto_has_a_round_trip_example() -> None:
    covered = {getattr(cls, "__origin__", cls) for _, cls in EXAMPLES}
    assert _all_dtos() - covered == set()


@pytest.mark.parametrize(("value", "cls"), EXAMPLES, ids=lambda v: type(v).__name__)
def test_dto_survives_json_round_trip(value: object, cls: type) -> None:
    text = json.dumps(encode(value))
    assert decode(cls, json.loads(text)) == value


@pytest.mark.parametrize(("value", "cls"), EXAMPLES, ids=lambda v: type(v).__name__)
def test_to_json_is_the_compact_json_of_encode(value: object, cls: type) -> None:
    assert to_json(value) == json.dumps(encode(value), separators=(",", ":")).encode()


def test_to_json_takes_naive_datetimes_as_utc_and_any_key_as_text() -> None:
    naive = AT.replace(tzinfo=None, microsecond=0)
    value = {"at": naive, 7: [AT, None], "status": AgentStatus.OVERDUE}
    assert to_json(value) == json.dumps(encode(value), separators=(",", ":")).encode()


def test_to_json_keeps_the_instant_of_another_zone() -> None:
    paris = datetime(2026, 11, 30, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert parse_datetime(json.loads(to_json(paris))) == parse_datetime(encode(paris))


def test_datetimes_are_rfc3339_utc_with_z() -> None:
    paris = timezone(timedelta(hours=1))
    assert encode(datetime(2026, 11, 30, 13, 0, tzinfo=paris)) == "2026-11-30T12:00:00Z"
    assert encode(AT) == "2026-11-30T12:34:56.789000Z"


def test_page_encodes_items_total_offset_only() -> None:
    page = dto.Page(items=[COUNTS], total=5, offset=1)
    assert encode(page) == {"items": [encode(COUNTS)], "total": 5, "offset": 1}


def test_enums_encode_as_their_value() -> None:
    assert encode(SUMMARY)["status"] == "online"


@pytest.mark.parametrize(
    ("cls", "data", "path"),
    [
        (dto.StatusCounts, {"online": "3"}, "online"),
        (dto.StatusCounts, {"online": True}, "online"),
        (dto.OrgChoice, {"kind": "planet", "org_id": "X", "name": "n", "path": ""}, "kind"),
        (dto.OrgNode, {**encode(NODE), "created_at": "2026-11-30T12:00:00"}, "created_at"),
        (dto.OrgNode, {**encode(NODE), "counts": {"online": -1.5}}, "counts.online"),
        (dto.AgentSummary, {**encode(SUMMARY), "status": "sleepy"}, "status"),
        (dto.AgentSummary, {**encode(SUMMARY), "ip_addresses": ["a", 3]}, "ip_addresses[1]"),
        (dto.Page[dto.OrgNode], {"items": [{"kind": "tenant"}], "total": 1, "offset": 0}, None),
        (dto.UserInfo, {"username": "a"}, None),
        (dto.EnrollResult, [], ""),
    ],
)
def test_data_that_does_not_fit_names_the_field(cls: type, data: object, path: str | None) -> None:
    with pytest.raises(WireError) as caught:
        decode(cls, data)
    if path is not None:
        assert caught.value.path == path
    else:
        assert caught.value.path


def test_null_is_refused_where_the_type_does_not_allow_it() -> None:
    with pytest.raises(WireError, match=r"must not be null|must be"):
        decode(dto.OrgNode, {**encode(NODE), "name": None})
