"""Ingest: check, verify, parse, store once, enqueue, and only then acknowledge.

Costs two AWS calls for a new webhook (conditional put + send) and at most two for a duplicate: the
failed put returns the stored job state, and only an unfinished job is enqueued again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from switchboard.canary import canary_token
from switchboard.errors import PayloadTooLarge, UnknownRoute, UnsupportedContentType, WebhookRejected
from switchboard.models import Event, Message
from switchboard.observability import count_by_provider, logger
from switchboard.providers import ROUTES, Route, provider_of
from switchboard.services.store import EventStore, IngestResult, JobSink, store_and_enqueue
from switchboard.webhook_request import WebhookRequest


class SecretSource(Protocol):
    def for_provider(self, name: str) -> dict[str, Any]: ...


class CanarySink(Protocol):
    def record_received(self, token: str, now: float) -> bool: ...


def _count(name: str, provider: str) -> None:
    count_by_provider(name, provider)


def record_rejection(rejected: WebhookRejected, route_name: str) -> None:
    """Every rejected webhook is counted and logged (never silently dropped), by provider."""
    _count(rejected.metric, provider_of(route_name))
    logger.warning(
        "webhook rejected",
        route=route_name,
        status=rejected.status_code,
        error=rejected.error,
        detail=rejected.detail,
    )


class IngestService:
    def __init__(
        self,
        store: EventStore,
        jobs: JobSink,
        secrets: SecretSource,
        *,
        max_body_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.time,
        canaries: CanarySink | None = None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.secrets = secrets
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self.canaries = canaries

    def ingest(self, request: WebhookRequest) -> IngestResult:
        """Raises WebhookRejected for bad input (the caller reports it with `record_rejection`)."""
        event = self._verified_event(ROUTES.get(request.route), request)
        provider = provider_of(request.route)
        _count("WebhooksReceived", provider)
        if event is None:
            _count("WebhooksIgnored", provider)
            logger.info("webhook ignored: event type not handled", route=request.route)
            return IngestResult(outcome="ignored", provider=provider)
        inbound = isinstance(event, Message) and event.direction == "inbound"
        token = canary_token(event.body) if isinstance(event, Message) and inbound and self.canaries else None
        if token and self.canaries:
            # The health check's own message: proof the loop works, never a contact's reply.
            self.canaries.record_received(token, self.clock())
            logger.info("health-check canary received", token=token)
        return store_and_enqueue(
            event, self.store, self.jobs, received_at=self.clock(), process=token is None
        )

    def _verified_event(self, route: Route | None, request: WebhookRequest) -> Event | None:
        if route is None:
            raise UnknownRoute(f"no webhook route named {request.route!r}")
        if len(request.body) > self.max_body_bytes:
            raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {self.max_body_bytes}")
        binding = route.load()
        module = binding.module
        if request.content_type not in module.CONTENT_TYPES:
            accepted = " or ".join(sorted(kind for kind in module.CONTENT_TYPES if kind))
            given = request.content_type or "no content type"
            raise UnsupportedContentType(f"{given} is not accepted; use {accepted}")
        now = self.clock()
        secrets = self.secrets.for_provider(module.SECRET_NAME)
        module.verify(request, secrets, now)
        return binding.parse(request, now, secrets)


def default_service() -> IngestService:
    """The service wired to the AWS resources named in the environment, built once per container."""
    global _default
    if _default is None:
        from switchboard.config import ingest_settings
        from switchboard.dal.events_table import EventsTable
        from switchboard.dal.health_records import HealthRecords
        from switchboard.dal.jobs_queue import JobsQueue
        from switchboard.dal.raw_payloads import RawPayloads
        from switchboard.dal.secrets import WebhookSecrets

        settings = ingest_settings()
        _default = IngestService(
            EventsTable(settings.table_name, raw_payloads=RawPayloads(settings.raw_payload_bucket)),
            JobsQueue(settings.processing_queue_url),
            WebhookSecrets(settings.webhook_secrets_name, settings.secrets_max_age_seconds),
            max_body_bytes=settings.max_body_bytes,
            canaries=HealthRecords(settings.table_name),
        )
    return _default


_default: IngestService | None = None
