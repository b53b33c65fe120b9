"""SenderFunction's wiring: settings, the providers' transports and rate limits, the records it keeps.
Apart from services/sender.py so that module holds the sending rules only."""

from __future__ import annotations

from switchboard.models.outbound import SendRequest
from switchboard.providers.outbound import Sent
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.sender import Sender, Transport


def build_sender() -> Sender:
    """A new sender from the current environment (default_sender keeps one per container)."""
    from functools import partial

    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.callbacks import AwaitedCallbacks
    from switchboard.dal.consents import Consents
    from switchboard.dal.dead_letters import RetryQueues
    from switchboard.dal.drafts import Drafts
    from switchboard.dal.events_table import EventsTable
    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.dal.outbound_records import OutboundRecords
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.dal.secrets import WebhookSecrets
    from switchboard.function_settings import sender_settings
    from switchboard.providers import TWILIO_STATUS
    from switchboard.providers.outbound import send_openphone, send_twilio
    from switchboard.providers.replies import REPLY_PROVIDERS

    settings = sender_settings()
    secrets = WebhookSecrets(settings.webhook_secrets_name)
    callback = (
        f"{settings.callback_base_url.rstrip('/')}/webhooks/{TWILIO_STATUS}"
        if settings.callback_base_url
        else None
    )

    def twilio(request: SendRequest) -> Sent:
        return send_twilio(
            request,
            secrets.for_provider("twilio"),
            status_callback=callback,
            base_url=settings.twilio_api_base_url or None,
        )

    def openphone(request: SendRequest) -> Sent:
        return send_openphone(
            request, secrets.for_provider("openphone"), base_url=settings.openphone_api_base_url or None
        )

    def reply_api(provider: str) -> Transport:
        module, base_url, _ = settings.reply_api(provider)
        return lambda request: module.send(request, secrets.for_provider(provider), base_url=base_url)

    per_instance = partial(
        TokenBucket, capacity=1
    )  # no bursts: concurrent senders share the provider's limit
    return Sender(
        records=OutboundRecords(settings.table_name),
        consents=Consents(settings.table_name, address_keys=AddressKeys.from_secrets(secrets)),
        queues=RetryQueues(settings.outbound_queue_url, settings.outbound_dlq_url),
        transports={"twilio": twilio, "openphone": openphone, **{p: reply_api(p) for p in REPLY_PROVIDERS}},
        limits={
            "twilio": per_instance(settings.twilio_rate_per_second / settings.sender_concurrency),
            "openphone": per_instance(settings.openphone_rate_per_second / settings.sender_concurrency),
            **{
                provider: per_instance(settings.reply_api(provider)[2] / settings.sender_concurrency)
                for provider in REPLY_PROVIDERS
            },
        },
        # No raw-payload bucket: a sent message's raw payload (send key, purpose) always fits its item.
        store=EventsTable(settings.table_name),
        jobs=JobsQueue(settings.processing_queue_url),
        drafts=Drafts(settings.table_name),
        callbacks=AwaitedCallbacks(settings.table_name),
        # Twilio calls back only where the send named a URL; OpenPhone posts message.delivered always.
        awaits_callback=frozenset(["openphone", *(["twilio"] if callback else [])]),
        reminders=ReminderSends(settings.table_name),
    )
