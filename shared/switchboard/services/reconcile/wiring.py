"""The reconciler wired to the environment's resources and the providers' credentials (ReconcileFunction)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from switchboard.providers.listing import Pacing
from switchboard.services.reconcile.service import Reconciler
from switchboard.services.reconcile.sources import MessageSource, OpenPhoneSource, TwilioSource

if TYPE_CHECKING:
    from switchboard.services.ratelimit import TokenBucket


def list_bucket(rate_per_second: float) -> TokenBucket:
    """The client-side limit on a provider's list API: its rate with no burst (capacity 1). A burst of 10
    at a 10/s limit still earned 429s (bench/reconcile): the provider's window need not line up with ours."""
    from switchboard.services.ratelimit import TokenBucket

    return TokenBucket(rate_per_second, capacity=1)


def default_reconciler() -> Reconciler:
    """The reconciler wired to the environment's resources and the providers' credentials."""
    global _default
    if _default is None:
        from switchboard.dal.continuations import ContinuationQueue
        from switchboard.dal.events_table import EventsTable
        from switchboard.dal.jobs_queue import JobsQueue
        from switchboard.dal.notifications import publish_alert
        from switchboard.dal.raw_payloads import RawPayloads
        from switchboard.dal.reconcile_records import ReconcileRecords
        from switchboard.dal.secrets import WebhookSecrets
        from switchboard.function_settings import reconcile_settings

        settings = reconcile_settings()
        secrets = WebhookSecrets(settings.webhook_secrets_name)
        sources: dict[str, MessageSource] = {}
        for name in settings.providers:
            if name == "twilio":
                sources[name] = TwilioSource(
                    secrets.for_provider("twilio"),
                    base_url=settings.twilio_api_base_url or None,
                    pacing=Pacing(bucket=list_bucket(settings.twilio_rate_per_second)),
                )
            elif name == "openphone":
                sources[name] = OpenPhoneSource(
                    secrets.for_provider("openphone"),
                    phone_number_id=settings.openphone_phone_number_id,
                    conversations=settings.openphone_conversations,
                    base_url=settings.openphone_api_base_url or None,
                    pacing=Pacing(bucket=list_bucket(settings.openphone_rate_per_second)),
                )
        topic = settings.alerts_topic_arn
        continuations = (
            ContinuationQueue(settings.continuation_queue_url) if settings.continuation_queue_url else None
        )
        _default = Reconciler(
            sources=sources,
            records=ReconcileRecords(settings.table_name),
            store=EventsTable(settings.table_name, raw_payloads=RawPayloads(settings.raw_payload_bucket)),
            jobs=JobsQueue(settings.processing_queue_url),
            alert=lambda subject, message: publish_alert(topic, subject, message),
            hand_off=continuations.send if continuations else None,
            grace_seconds=settings.requeue_grace_seconds,
            safety_ms=settings.safety_ms,
        )
    return _default


_default: Reconciler | None = None
