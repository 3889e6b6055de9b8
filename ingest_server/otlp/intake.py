"""One OTLP export: who sends it, what it maps to, and the answer after the commit."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from tornado.httputil import HTTPHeaders

from argos_core.errors import AuthenticationFailed
from argos_core.services.agent_inventory import AgentInventory
from argos_core.services.enrollment_service import KeyGrant
from ingest_server.bodies import BodyBuffer
from ingest_server.context import IngestContext
from ingest_server.enroll_throttle import Throttled
from ingest_server.errors import ApiError
from ingest_server.otlp.encoding import Encoding, decode_request
from ingest_server.otlp.identity import OtlpIdentities
from ingest_server.otlp.mapping import MappedResource, MetricMapper
from ingest_server.otlp.resources import ResourceInventories
from ingest_server.samples import InvalidBatch
from ingest_server.writer import AgentGone

REVOKED = "This agent has been revoked or no longer exists."
NAMES_LISTED = 5
MAX_RESOURCES = 1000


@dataclass
class _Host:
    """The resources of one host in a request (usually one), merged."""

    inventory: AgentInventory
    mapped: MappedResource
    refused: str = ""
    agent_id: int = 0
    rows: list[tuple] = field(default_factory=list)


class OtlpIntake:
    def __init__(self, ctx: IngestContext) -> None:
        self._ctx = ctx
        self.identities = OtlpIdentities(
            ctx.services.enrollment,
            ctx.executor,
            key_ttl_s=ctx.config.otlp_key_ttl_s,
            agent_ttl_s=ctx.config.credentials_ttl_s,
        )
        self._mapper = MetricMapper()
        self._inventories = ResourceInventories()

    async def export(
        self, headers: HTTPHeaders, body: BodyBuffer, address: str
    ) -> tuple[Encoding, ExportMetricsServiceResponse]:
        """Store what maps onto samples; the response counts what was not stored.

        A wrong key counts as a failed enrollment of ``address`` (the sender's); too many
        of them answer ``503`` with ``Retry-After``, as any throttling does here."""
        source = f"otlp:{address}"
        throttle = self._ctx.enroll_throttle
        try:
            throttle.check(address)
        except Throttled as exc:
            raise ApiError(
                503, str(exc), code="rate_limited", retry_after=exc.retry_after
            ) from None
        try:
            key, grant = await self.identities.grant(headers.get("Authorization"))
        except AuthenticationFailed:
            await throttle.failed(address, "otlp")
            raise
        encoding, request, view = decode_request(headers, body)
        if len(request.resource_metrics) > MAX_RESOURCES:
            raise ApiError(400, f"An export may hold at most {MAX_RESOURCES} resources.")
        now = time.time()
        hosts: dict[str, _Host] = {}
        inventories = [
            self._inventories.of(rm.resource, index)
            for index, rm in enumerate(request.resource_metrics)
        ]
        for inventory, resource_metrics in zip(inventories, view.resource_metrics, strict=True):
            mapped = self._mapper.map(
                (grant.branch_id, inventory.machine_id), resource_metrics, now
            )
            if inventory.machine_id in hosts:
                hosts[inventory.machine_id].mapped.merge(mapped)
            else:
                hosts[inventory.machine_id] = _Host(inventory, mapped)
        await self._identify(key, grant, list(hosts.values()), source)
        await self._store(grant.branch_id, list(hosts.values()))
        if hosts and all(h.refused == REVOKED for h in hosts.values()):
            raise AuthenticationFailed(REVOKED)
        return encoding, _response(list(hosts.values()))

    async def _identify(self, key: str, grant: KeyGrant, hosts: list[_Host], source: str) -> None:
        found: list[int | BaseException | None] = [
            self.identities.known_agent_id(grant, h.inventory) for h in hosts
        ]
        unknown = [i for i, agent_id in enumerate(found) if agent_id is None]
        looked_up = await asyncio.gather(
            *(self.identities.agent_id(key, grant, hosts[i].inventory, source) for i in unknown),
            return_exceptions=True,
        )
        for i, agent_id in zip(unknown, looked_up, strict=True):
            found[i] = agent_id
        for host, agent_id in zip(hosts, found, strict=True):
            if isinstance(agent_id, AuthenticationFailed):
                host.refused = REVOKED
            elif isinstance(agent_id, BaseException):
                raise agent_id
            else:
                host.agent_id = agent_id
                host.rows = host.mapped.rows(agent_id)
        limiter = self._ctx.limiter
        for host in hosts:
            wait = 0 if host.refused or not host.rows else limiter.retry_after(host.agent_id)
            if wait:
                raise ApiError(
                    503, "This host is sending too often.", code="rate_limited", retry_after=wait
                )

    async def _store(self, branch_id: int, hosts: list[_Host]) -> None:
        writing = [h for h in hosts if h.rows and not h.refused]
        results = await asyncio.gather(
            *(self._ctx.writer.submit(h.agent_id, h.rows) for h in writing),
            return_exceptions=True,
        )
        for host, result in zip(writing, results, strict=True):
            if isinstance(result, AgentGone):
                host.refused = REVOKED
                self.identities.forget_agent(branch_id, host.inventory.machine_id)
            elif isinstance(result, InvalidBatch):
                host.refused = result.message
        for result in results:
            if isinstance(result, BaseException) and not isinstance(
                result, AgentGone | InvalidBatch
            ):
                raise result


def _response(hosts: list[_Host]) -> ExportMetricsServiceResponse:
    """Full success leaves ``partial_success`` unset, as the specification asks."""
    response = ExportMetricsServiceResponse()
    rejected = 0
    reasons: list[str] = []
    for host in hosts:
        if host.refused:
            rejected += host.mapped.data_points
            reasons.append(f"{host.inventory.machine_id}: {host.refused}")
        else:
            rejected += host.mapped.rejected
    unmapped = sorted({n for h in hosts if not h.refused for n in h.mapped.unmapped})
    if unmapped:
        listed = ", ".join(unmapped[:NAMES_LISTED]) + (
            ", ..." if len(unmapped) > NAMES_LISTED else ""
        )
        reasons.append(f"{len(unmapped)} metrics Argos does not store ({listed})")
    invalid = sorted({r for h in hosts if not h.refused for r in h.mapped.invalid})
    if invalid:
        reasons.append("invalid data points: " + "; ".join(invalid[:NAMES_LISTED]))
    if rejected:
        response.partial_success.rejected_data_points = rejected
        response.partial_success.error_message = ". ".join(reasons) + "."
    return response
