"""The console over the Argos server's console API: HTTPS, bearer tokens, JSON.

Signing in trades a username and password for a short-lived access token and a refresh
token. Tokens are refreshed before they expire, and once more when the server says one has
(several pool threads may notice at once: one refreshes, the others use its result, since a
spent refresh token presented twice ends the session). When the server says the session has
ended (signed out elsewhere, account deactivated, refresh token reused), every later call
raises ``SessionEnded`` at once and the console returns to its sign-in form.

Answers are decoded with ``argos_core.services.wire`` into the same dataclasses the direct
backend returns, and error answers become the same domain exceptions.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from argos_core.errors import (
    ArgosError,
    AuthenticationFailed,
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    DuplicateName,
    NotFound,
    ScopeViolation,
    SessionEnded,
    ValidationError,
)
from argos_core.services import wire
from argos_core.services.alert_dto import AlertInfo, ChannelInfo, MaintenanceInfo, RuleInfo
from argos_core.services.dto import (
    AgentDetail,
    AgentSummary,
    AuditEntry,
    EnrollmentKeyInfo,
    IssuedKey,
    NodeSeries,
    OrgChoice,
    OrgKind,
    OrgNode,
    Page,
    SearchHit,
    SessionInfo,
    TelemetrySeries,
    TopAgent,
    UserInfo,
)
from argos_core.status import AgentStatus
from argos_desktop.backend.protocol import Identity, ServerHealth

T = TypeVar("T")
API = "/api/v1"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
# Refresh this long before the access token expires, so no call carries a dying token.
REFRESH_MARGIN_S = 30
ETAG_CACHE_SIZE = 256
LOGOUT_TIMEOUT_S = 3.0
HEALTH_TIMEOUT_S = 5.0
# A read the server refuses for now (503 + Retry-After) is tried once more after this at most.
MAX_RETRY_WAIT_S = 3.0  # the console may be quitting: do not hold it up for long


class ServerUnavailable(ArgosError):
    """The server cannot be reached, or answered in a way the console cannot use."""


@dataclass(frozen=True)
class SignedIn:
    """What login and refresh answer (the console reads the fields it needs)."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: Identity


def server_label(server_url: str) -> str:
    parts = urlsplit(server_url.strip())
    return f"Server · {parts.netloc or server_url.strip()}"


def tls_context(ca_file: str | None = None) -> ssl.SSLContext:
    """System trust, or only the CA certificates in ``ca_file``; certificates are verified."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"The CA file '{ca_file}' cannot be read ({exc}).") from exc


def connect_remote(
    server_url: str,
    username: str,
    password: str,
    *,
    ca_file: str | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[RemoteBackend, Identity]:
    """Blocking: sign in to the server. Raises the domain exceptions, one sentence each."""
    base = _base_url(server_url)
    client = httpx.Client(
        base_url=base + API, verify=tls_context(ca_file), timeout=TIMEOUT, transport=transport
    )
    try:
        response = _request(
            client, "POST", "/auth/login", json={"username": username, "password": password}
        )
        if response.status_code == 429:
            raise AuthenticationFailed(_message(response, "Too many attempts; wait a moment."))
        signed_in = _decode(SignedIn, _checked(response))
    except BaseException:
        client.close()
        raise
    return RemoteBackend(client, signed_in, clock), signed_in.user


class RemoteBackend:
    """A ``ConsoleBackend`` over the console API, for the person who signed in."""

    def __init__(
        self,
        client: httpx.Client,
        signed_in: SignedIn,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._ended: SessionEnded | None = None
        self._etags: OrderedDict[tuple, tuple[str, Any]] = OrderedDict()
        self._take(signed_in)

    # --- the organisation --------------------------------------------------------------------
    def list_children(
        self, parent_org_id: str | None = None, offset: int = 0, limit: int = 100
    ) -> Page[OrgNode]:
        path = "/orgs" if parent_org_id is None else f"/orgs/{_seg(parent_org_id)}/children"
        return self._get(Page[OrgNode], path, {"offset": offset, "limit": limit}, cache=True)

    def get_node(self, org_id: str) -> OrgNode:
        return self._get(OrgNode, f"/orgs/{_seg(org_id)}", cache=True)

    def list_choices(
        self,
        kinds: Sequence[OrgKind] = ("tenant", "company", "branch"),
        text: str = "",
        limit: int = 500,
    ) -> list[OrgChoice]:
        params = {"kinds": list(kinds), "text": text, "limit": limit}
        return self._get(list[OrgChoice], "/org-choices", params)

    def search(
        self, text: str, *, status: AgentStatus | str | None = None, limit: int = 200
    ) -> list[SearchHit]:
        params = {"q": text, "status": status, "limit": limit}
        return self._get(list[SearchHit], "/search", params, cache=True)

    def create_tenant(self, name: str) -> OrgNode:
        return self._send(OrgNode, "POST", "/tenants", {"name": name})

    def create_company(self, tenant_org_id: str, name: str) -> OrgNode:
        return self._send(OrgNode, "POST", f"/orgs/{_seg(tenant_org_id)}/companies", {"name": name})

    def create_branch(self, company_org_id: str, name: str) -> OrgNode:
        return self._send(OrgNode, "POST", f"/orgs/{_seg(company_org_id)}/branches", {"name": name})

    def rename_org(self, org_id: str, new_name: str) -> OrgNode:
        return self._send(OrgNode, "PATCH", f"/orgs/{_seg(org_id)}", {"name": new_name})

    def delete_org(self, org_id: str, *, force: bool = False) -> None:
        self._send(None, "DELETE", f"/orgs/{_seg(org_id)}", params={"force": force})

    # --- agents ------------------------------------------------------------------------------
    def list_agents(
        self,
        org_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        sort_by: str = "hostname",
        descending: bool = False,
        status: AgentStatus | None = None,
        text: str = "",
    ) -> Page[AgentSummary]:
        params = {
            "offset": offset,
            "limit": limit,
            "sort_by": sort_by,
            "descending": descending,
            "status": status,
            "text": text,
        }
        return self._get(Page[AgentSummary], f"/orgs/{_seg(org_id)}/agents", params, cache=True)

    def get_agent(self, agent_uuid: str) -> AgentDetail:
        return self._get(AgentDetail, f"/agents/{_seg(agent_uuid)}")

    def telemetry_range(
        self, agent_uuid: str, start: int, end: int, *, max_points: int = 2000
    ) -> TelemetrySeries:
        params = {"since": start, "until": end, "points": max_points}
        return self._get(TelemetrySeries, f"/agents/{_seg(agent_uuid)}/telemetry", params)

    def node_aggregate(
        self, org_id: str, start: int, end: int, *, max_points: int = 2000
    ) -> NodeSeries:
        params = {"since": start, "until": end, "points": max_points}
        return self._get(NodeSeries, f"/orgs/{_seg(org_id)}/telemetry", params)

    def top_agents(
        self, org_id: str, metric: str, start: int, end: int, *, limit: int = 10
    ) -> list[TopAgent]:
        params = {"metric": metric, "since": start, "until": end, "limit": limit}
        return self._get(list[TopAgent], f"/orgs/{_seg(org_id)}/top-agents", params)

    def revoke_agent(self, agent_uuid: str) -> None:
        self._send(None, "POST", f"/agents/{_seg(agent_uuid)}/revoke")

    def move_agent(self, agent_uuid: str, branch_org_id: str) -> AgentSummary:
        body = {"branch_org_id": branch_org_id}
        return self._send(AgentSummary, "POST", f"/agents/{_seg(agent_uuid)}/move", body)

    def delete_agent(self, agent_uuid: str) -> None:
        self._send(None, "DELETE", f"/agents/{_seg(agent_uuid)}")

    # --- enrollment keys ---------------------------------------------------------------------
    def list_keys(self, branch_org_id: str) -> list[EnrollmentKeyInfo]:
        return self._get(list[EnrollmentKeyInfo], f"/orgs/{_seg(branch_org_id)}/enrollment-keys")

    def issue_key(
        self,
        branch_org_id: str,
        *,
        expires_in: timedelta | None = timedelta(days=7),
        note: str = "",
    ) -> IssuedKey:
        seconds = None if expires_in is None else int(expires_in.total_seconds())
        body = {"expires_in": seconds, "note": note}
        path = f"/orgs/{_seg(branch_org_id)}/enrollment-keys"
        return self._send(IssuedKey, "POST", path, body)

    def revoke_key(self, key_id: int) -> None:
        self._send(None, "POST", f"/enrollment-keys/{int(key_id)}/revoke")

    # --- people ------------------------------------------------------------------------------
    def list_users(self, offset: int = 0, limit: int = 200) -> Page[UserInfo]:
        return self._get(Page[UserInfo], "/users", {"offset": offset, "limit": limit})

    def create_user(
        self, *, username: str, password: str, role: str, scope_org_id: str
    ) -> UserInfo:
        body = {
            "username": username,
            "password": password,
            "role": role,
            "scope_org_id": scope_org_id,
        }
        return self._send(UserInfo, "POST", "/users", body)

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        scope_org_id: str | None = None,
        is_active: bool | None = None,
    ) -> UserInfo:
        body = {"role": role, "scope_org_id": scope_org_id, "is_active": is_active}
        body = {k: v for k, v in body.items() if v is not None}
        return self._send(UserInfo, "PATCH", f"/users/{_seg(username)}", body)

    def reset_password(self, username: str, new_password: str) -> None:
        body = {"new_password": new_password}
        self._send(None, "POST", f"/users/{_seg(username)}/password", body)

    def change_own_password(self, old_password: str, new_password: str) -> None:
        body = {"current_password": old_password, "new_password": new_password}
        self._send(None, "POST", "/me/password", body)

    def list_own_sessions(self) -> list[SessionInfo]:
        return self._get(list[SessionInfo], "/me/sessions")

    def end_own_session(self, session_id: str) -> None:
        self._send(None, "DELETE", f"/me/sessions/{_seg(session_id)}")

    def list_superadmins(self) -> list[UserInfo]:
        return self._get(list[UserInfo], "/superadmins")

    def add_superadmin(self, username: str, password: str) -> UserInfo:
        body = {"username": username, "password": password}
        return self._send(UserInfo, "POST", "/superadmins", body)

    def set_superadmin_active(self, username: str, active: bool) -> None:
        self._send(None, "PATCH", f"/superadmins/{_seg(username)}", {"active": active})

    # --- audit log ---------------------------------------------------------------------------
    def audit_entries(
        self,
        *,
        offset: int = 0,
        limit: int = 200,
        action: str | None = None,
        text: str = "",
        sort_by: str = "at",
        descending: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]:
        params = {
            "offset": offset,
            "limit": limit,
            "action": action,
            "text": text,
            "sort_by": sort_by,
            "descending": descending,
            "since": since,
            "until": until,
        }
        return self._get(Page[AuditEntry], "/audit", params)

    def audit_actions(self) -> list[str]:
        return self._get(list[str], "/audit/actions")

    # --- alerts ------------------------------------------------------------------------------
    def list_alerts(
        self,
        *,
        active: bool = True,
        node: str | None = None,
        severity: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page[AlertInfo]:
        params = {
            "active": active,
            "node": node,
            "severity": severity,
            "offset": offset,
            "limit": limit,
        }
        return self._get(Page[AlertInfo], "/alerts", params, cache=True)

    def acknowledge(
        self, alert_id: int, comment: str = "", until: datetime | None = None
    ) -> AlertInfo:
        body = {"comment": comment, "until": wire.format_datetime(until) if until else None}
        return self._send(AlertInfo, "POST", f"/alerts/{int(alert_id)}/acknowledge", body)

    def list_rules(self) -> list[RuleInfo]:
        return self._get(list[RuleInfo], "/alert-rules")

    def create_rule(
        self,
        node: str,
        *,
        severity: str,
        condition: str = "threshold",
        metric: str | None = None,
        comparison: str | None = None,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int = 0,
        samples: int = 1,
    ) -> RuleInfo:
        body = {
            "node": node,
            "severity": severity,
            "condition": condition,
            "metric": metric,
            "comparison": comparison,
            "threshold": threshold,
            "recover_at": recover_at,
            "for_s": for_s,
            "samples": samples,
        }
        return self._send(RuleInfo, "POST", "/alert-rules", body)

    def override_rule(
        self,
        rule_id: int,
        node: str,
        *,
        enabled: bool = True,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int | None = None,
        samples: int | None = None,
        severity: str | None = None,
    ) -> RuleInfo:
        body = {
            "node": node,
            "enabled": enabled,
            "threshold": threshold,
            "recover_at": recover_at,
            "for_s": for_s,
            "samples": samples,
            "severity": severity,
        }
        return self._send(RuleInfo, "POST", f"/alert-rules/{int(rule_id)}/overrides", body)

    def set_rule_enabled(self, rule_id: int, enabled: bool) -> RuleInfo:
        body = {"enabled": enabled}
        return self._send(RuleInfo, "PATCH", f"/alert-rules/{int(rule_id)}", body)

    def agent_rules(self, agent_uuid: str) -> list[RuleInfo]:
        return self._get(list[RuleInfo], f"/agents/{_seg(agent_uuid)}/alert-rules")

    def list_channels(self) -> list[ChannelInfo]:
        return self._get(list[ChannelInfo], "/alert-channels")

    def create_channel(
        self, org_id: str, kind: str, target: str, min_severity: str = "warning"
    ) -> ChannelInfo:
        body = {"org_id": org_id, "kind": kind, "target": target, "min_severity": min_severity}
        return self._send(ChannelInfo, "POST", "/alert-channels", body)

    def delete_channel(self, channel_id: int) -> None:
        self._send(None, "DELETE", f"/alert-channels/{int(channel_id)}")

    def list_maintenance(self) -> list[MaintenanceInfo]:
        return self._get(list[MaintenanceInfo], "/maintenance-windows", cache=True)

    def create_maintenance(
        self,
        node: str,
        start: datetime,
        duration_s: int,
        *,
        repeat: str = "none",
        timezone: str = "UTC",
        comment: str = "",
    ) -> MaintenanceInfo:
        body = {
            "node": node,
            "start": wire.format_datetime(start),
            "duration_s": duration_s,
            "repeat": repeat,
            "timezone": timezone,
            "comment": comment,
        }
        return self._send(MaintenanceInfo, "POST", "/maintenance-windows", body)

    def delete_maintenance(self, window_id: int) -> None:
        self._send(None, "DELETE", f"/maintenance-windows/{int(window_id)}")

    # --- the connection ----------------------------------------------------------------------
    def server_health(self) -> ServerHealth:
        base = self._client.base_url
        url = base.copy_with(path=base.path.rstrip("/").removesuffix(API) + "/healthz")
        try:
            response = _request(self._client, "GET", str(url), timeout=HEALTH_TIMEOUT_S)
        except ServerUnavailable as exc:
            return ServerHealth(False, str(exc))
        body = _body(response)
        body = body if isinstance(body, dict) else {}
        if response.status_code == 200 and body.get("status") == "ok":
            return ServerHealth(True, "The Argos server is healthy; its database answers.")
        database = body.get("database", "unknown")
        return ServerHealth(
            False,
            f"The Argos server reports a problem (HTTP {response.status_code},"
            f" status {body.get('status', 'unknown')}, database {database}).",
        )

    def close(self) -> None:
        """Sign out on the server (best effort: the session expires anyway), then disconnect."""
        if self._client.is_closed:
            return
        if self._ended is None:
            with contextlib.suppress(httpx.HTTPError):
                self._client.post(
                    "/auth/logout", headers=self._auth(self._access), timeout=LOGOUT_TIMEOUT_S
                )
        self._client.close()

    # --- plumbing ----------------------------------------------------------------------------
    def _get(self, cls: Any, path: str, params: dict | None = None, *, cache: bool = False):
        query = _query(params or {})
        key = (path, tuple(sorted((k, str(v)) for k, v in query.items()))) if cache else None
        with self._lock:
            cached = self._etags.get(key) if key else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        response = self._call("GET", path, params=query, headers=headers)
        if response.status_code == 304 and cached:
            return cached[1]
        value = _decode(cls, _checked(response))
        etag = response.headers.get("ETag")
        if key and etag:
            with self._lock:
                self._etags[key] = (etag, value)
                self._etags.move_to_end(key)
                while len(self._etags) > ETAG_CACHE_SIZE:
                    self._etags.popitem(last=False)
        return value

    def _send(
        self,
        cls: Any,
        method: str,
        path: str,
        body: dict | None = None,
        params: dict | None = None,
    ):
        response = self._call(method, path, json=body, params=_query(params or {}))
        data = _checked(response)
        return None if cls is None else _decode(cls, data)

    def _call(
        self, method: str, path: str, headers: dict | None = None, **kwargs
    ) -> httpx.Response:
        """One request with a fresh token: refreshed once on 401, and a read retried once
        when the server asks for it (503 with a short Retry-After)."""
        refreshed = retried = False
        while True:
            token = self._fresh_token()
            sent = {**(headers or {}), **self._auth(token)}
            response = _request(self._client, method, path, headers=sent, **kwargs)
            if response.status_code == 401:
                if _code(response) == "session_ended" or refreshed:
                    raise self._end(_message(response, "Your session has ended."))
                self._refresh(stale=token)
                refreshed = True
                continue
            delay = _retry_after(response)
            if method == "GET" and not retried and delay is not None:
                retried = True
                time.sleep(delay)  # on a worker thread, never the GUI's
                continue
            return response

    def _fresh_token(self) -> str:
        with self._lock:
            if self._ended is not None:
                raise self._ended
            token, due = self._access, self._clock() >= self._refresh_at
        if due:
            self._refresh(stale=token)
            with self._lock:
                token = self._access
        return token

    def _refresh(self, *, stale: str) -> None:
        """Trade the refresh token for a new pair, unless another thread already did."""
        with self._lock:
            if self._ended is not None:
                raise self._ended
            if self._access != stale:
                return
            response = _request(
                self._client, "POST", "/auth/refresh", json={"refresh_token": self._refresh_token}
            )
            if response.status_code == 401:
                self._ended = SessionEnded(
                    _message(response, "Your session has ended; sign in again.")
                )
                raise self._ended
            self._take(_decode(SignedIn, _checked(response)))

    def _take(self, signed_in: SignedIn) -> None:
        self._access = signed_in.access_token
        self._refresh_token = signed_in.refresh_token
        self._refresh_at = self._clock() + max(signed_in.expires_in - REFRESH_MARGIN_S, 0)

    def _end(self, message: str) -> SessionEnded:
        with self._lock:
            if self._ended is None:
                self._ended = SessionEnded(message)
            return self._ended

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


def _base_url(server_url: str) -> str:
    url = server_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            "That is not a server address; use e.g. https://argos.example.com:8080."
        )
    return url


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _query(params: dict) -> dict:
    """Query parameters as the API reads them; ``None`` means 'not given'."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, Enum):
            out[name] = value.value
        elif isinstance(value, datetime):
            out[name] = wire.format_datetime(value)
        else:
            out[name] = value
    return out


def _request(client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
    """One HTTP exchange; a network or TLS failure becomes one sentence for people."""
    where = client.base_url.netloc.decode() or str(client.base_url)
    try:
        return client.request(method, path, **kwargs)
    except httpx.ConnectError as exc:
        reason = _certificate_problem(exc)
        if reason:
            raise ServerUnavailable(
                f"The certificate of {where} could not be verified ({reason}); check the"
                " address, or give the CA file that signed it in the profile."
            ) from exc
        raise ServerUnavailable(
            f"The Argos server at {where} cannot be reached; check the address and that it"
            " is running."
        ) from exc
    except httpx.TimeoutException as exc:
        raise ServerUnavailable(f"The Argos server at {where} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise ServerUnavailable(
            f"The connection to {where} failed ({exc.__class__.__name__})."
        ) from exc


def _certificate_problem(exc: BaseException) -> str:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or "certificate verify failed"
        if isinstance(seen, ssl.SSLError):
            return seen.reason or str(seen)
        seen = seen.__cause__ or seen.__context__
    return ""


def _retry_after(response: httpx.Response) -> float | None:
    """The wait a 503 asks for, if it is short enough to wait for now."""
    if response.status_code != 503:
        return None
    try:
        delay = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return delay if 0 <= delay <= MAX_RETRY_WAIT_S else None


def _code(response: httpx.Response) -> str:
    body = _body(response)
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _message(response: httpx.Response, default: str) -> str:
    body = _body(response)
    message = body.get("message") if isinstance(body, dict) else None
    return str(message) if message else default


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _checked(response: httpx.Response) -> Any:
    """The JSON of a successful answer; an error answer raised as its domain exception."""
    status = response.status_code
    if status < 400:
        return None if status == 204 or not response.content else _body(response)
    message = _message(response, f"The server refused the request (HTTP {status}).")
    if status == 400:
        raise ValidationError(message)
    if status == 401:
        raise AuthenticationFailed(message)
    if status == 403:
        raise ScopeViolation(message)
    if status == 404:
        raise NotFound(message)
    if status == 409:
        duplicate = _code(response) in ("duplicate", "duplicate_name")
        raise (DuplicateName if duplicate else Conflict)(message)
    if status == 503 and _code(response) == "database_unavailable":
        raise DatabaseUnavailable(message)
    raise ServerUnavailable(message)


def _decode(cls: type[T] | Any, data: Any) -> T:
    try:
        return wire.decode(cls, data)
    except (wire.WireError, TypeError) as exc:
        raise ServerUnavailable(
            f"The server's answer could not be read ({exc}); is it an Argos server of this version?"
        ) from exc
