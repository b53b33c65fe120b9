"""The sender: each send request reaches the provider at most once, never to a suppressed number.

PENDING -> SENDING (conditional) -> provider call -> SENT with the provider's id. Rejections are final
(21610 also suppresses the number); "certainly not accepted" failures retry with backoff, at most three
attempts (retry.OUTBOUND_SENDS; reminders: retry.REMINDERS), then the dead-letter queue; "maybe sent"
outcomes are flagged for review, never re-sent.
An auto-reply (purpose "auto_reply") also ends its draft: approved -> sent with the provider's id, or ->
failed with the provider's reason (metric AutoReplyFailures); an ambiguous send leaves it for review.
A reminder is sent only while its version is still the reminder's (checked before every attempt), and its
record follows the send: sent (with the provider's id), failed (rejected or attempts exhausted).
Dead-lettering records FAILED first and sends to the DLQ last; a request back past its last attempt (that
send failed) is only dead-lettered, never sent again (docs/adr/0005).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from switchboard.container import once_per_container
from switchboard.errors import SendFinished, SendInterrupted, StoreUnavailable
from switchboard.models import Channel, Direction, Message
from switchboard.models.drafts import DraftEnds, DraftState
from switchboard.models.outbound import SendRequest
from switchboard.models.plan import Consent, ConsentChange
from switchboard.models.reminders import ReminderState
from switchboard.models.states import SendState
from switchboard.observability import logger, metrics
from switchboard.providers.outbound import (
    UNSUBSCRIBED_RECIPIENT,
    SendAmbiguous,
    SendRejected,
    SendUnavailable,
    Sent,
)
from switchboard.retry import OUTBOUND_SENDS, REMINDERS, SQS_MAX_VISIBILITY_SECONDS, QueueRetry
from switchboard.services.reminders.delivery import ReminderDeliveries, merged_status
from switchboard.services.store import EventStore, JobSink, store_and_enqueue

SendOutcome = Literal["sent", "rejected", "suppressed", "ambiguous", "skipped", "retrying", "dead_lettered"]


class Records(Protocol):
    def begin_send(self, request: SendRequest, now: float) -> dict[str, Any]: ...
    def finish(self, key: str, state: str, now: float, **fields: Any) -> bool: ...
    def flag_interrupted(self, key: str, now: float) -> None: ...
    def get(self, key: str) -> dict[str, Any] | None: ...


class Consents(Protocol):
    def is_suppressed(self, channel: str, address: str) -> bool: ...
    def record_consent(self, change: ConsentChange) -> bool: ...


class Queues(Protocol):
    def retry_later(self, receipt_handle: str, seconds: int) -> None: ...
    def dead_letter(
        self, body: str, *, error: str, attempts: int, reason: str, provider: str = "", job_type: str = ""
    ) -> None: ...


class RateLimit(Protocol):  # ratelimit.TokenBucket, or the benchmark's no-limit stand-in
    def acquire(self) -> float: ...


class AwaitedCallbacks(Protocol):
    def expect(self, provider: str, provider_message_id: str, sent_at: float) -> bool: ...


class ReminderLedger(Protocol):
    def current(self, send_key: str) -> dict[str, Any] | None: ...
    def mark_sent(
        self, send_key: str, provider: str, provider_message_id: str, now: float
    ) -> dict[str, Any] | None: ...
    def record_delivery(
        self, reminder_pk: str, version: str, state: ReminderState, now: float, **fields: Any
    ) -> bool: ...
    def mark_failed(self, send_key: str, error: str, now: float) -> bool: ...
    def mark_cancelled(self, send_key: str, reason: str, now: float) -> bool: ...


Transport = Callable[[SendRequest], Sent]


def retry_policy(request: SendRequest) -> QueueRetry:
    """Reminders back off 2 then 4 minutes (issue 11); every other send 30 s then 60 s."""
    return REMINDERS if request.purpose == "reminder" else OUTBOUND_SENDS


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)


@dataclass
class Sender:
    records: Records
    consents: Consents
    queues: Queues
    transports: dict[str, Transport]
    limits: dict[str, RateLimit]
    store: EventStore
    jobs: JobSink
    clock: Callable[[], float] = time.time
    drafts: DraftEnds | None = None  # auto-replies' drafts; None: no draft is ever moved
    # Providers that post a status callback for every send: those sends are watched until it arrives.
    callbacks: AwaitedCallbacks | None = None
    awaits_callback: frozenset[str] = frozenset()
    reminders: ReminderLedger | None = None

    def handle(self, body: str, *, receipt_handle: str, receive_count: int) -> SendOutcome:
        """One SQS record: returns when the message may be deleted, raises to have it retried."""
        try:
            request = SendRequest.model_validate_json(body)
        except ValidationError as invalid:
            self.queues.dead_letter(
                body,
                error=f"invalid send request: {invalid.error_count()} error(s)",
                attempts=receive_count,
                reason="permanent",
                job_type="send",
            )
            return "dead_lettered"
        policy = retry_policy(request)
        if policy.is_past_last_attempt(receive_count):
            # Back after its last attempt: its dead-lettering failed (or that attempt died). Never send again.
            record = self.records.get(request.send_key) or {}
            error = str(record.get("error") or "send attempts exhausted; the last one recorded no error")
            return self._dead_letter(body, request, error, receive_count)
        try:
            return self.send(request)
        except SendUnavailable as failure:
            exhausted = policy.is_exhausted(receive_count)
            self.records.finish(
                request.send_key,
                SendState.FAILED if exhausted else SendState.RETRY,
                self.clock(),
                error=str(failure)[:500],
            )
            if exhausted:
                self._purpose_failed(request, str(failure))
                return self._dead_letter(body, request, str(failure), receive_count)
            self.queues.retry_later(receipt_handle, _retry_delay(policy, receive_count, failure.retry_after))
            _count("SendsRetried")
            raise

    def _dead_letter(self, body: str, request: SendRequest, error: str, receive_count: int) -> SendOutcome:
        """The DLQ send is the last write: a retry of this step can never leave a second copy."""
        self.queues.dead_letter(
            body,
            error=error,
            attempts=min(receive_count, retry_policy(request).attempts),
            reason="exhausted",
            provider=request.provider,
            job_type="send",
        )
        _count("SendsExhausted")
        return "dead_lettered"

    def send(self, request: SendRequest) -> SendOutcome:
        key = request.send_key
        if self._superseded(request):
            return "skipped"
        try:
            self.records.begin_send(request, self.clock())
        except SendFinished as finished:
            logger.info("send already finished", send_key=key, state=finished.state)
            self._redo_draft(request)
            return "skipped"
        except SendInterrupted:
            self.records.flag_interrupted(key, self.clock())
            _count("SendsAmbiguous")
            logger.error("send interrupted earlier; flagged for review, not re-sent", send_key=key)
            return "ambiguous"
        if self.consents.is_suppressed(request.channel, request.recipient):
            self.records.finish(key, SendState.SUPPRESSED, self.clock())
            self._finish_draft(request, DraftState.FAILED, error="the recipient is suppressed (opted out)")
            if request.purpose == "reminder" and self.reminders is not None:
                self.reminders.mark_cancelled(key, "suppressed", self.clock())
            _count("SendsSuppressed")
            return "suppressed"
        self.limits[request.provider].acquire()
        try:
            sent = self.transports[request.provider](request)
        except SendRejected as rejected:
            return self._rejected(request, rejected)
        except SendAmbiguous as ambiguous:
            self.records.finish(
                key, SendState.AMBIGUOUS, self.clock(), needs_review=True, error=str(ambiguous)[:500]
            )
            _count("SendsAmbiguous")
            return "ambiguous"
        self.records.finish(key, SendState.SENT, self.clock(), provider_message_id=sent.provider_message_id)
        if request.purpose == "reminder" and self.reminders is not None:
            linked = self.reminders.mark_sent(key, request.provider, sent.provider_message_id, self.clock())
            if linked and linked.get("delivery_status"):
                # Its status callback was merged before this link, when the worker found no reminder to
                # move: move it now, from the status the DELIVERY record already holds.
                ReminderDeliveries(self.reminders).record(linked, merged_status(linked), now=self.clock())
        self._finish_draft(request, DraftState.SENT, provider_message_id=sent.provider_message_id)
        if sent.provider_message_id:  # SmartLead queues a reply and names no id: nothing to key it on
            self._store_outbound(request, sent)
            if self.callbacks is not None and request.provider in self.awaits_callback:
                self._await_callback(self.callbacks, request.provider, sent.provider_message_id)
        _count("MessagesSent")
        logger.info(
            "message sent",
            send_key=key,
            provider=request.provider,
            provider_message_id=sent.provider_message_id,
            purpose=request.purpose,
        )
        return "sent"

    def _await_callback(self, callbacks: AwaitedCallbacks, provider: str, provider_message_id: str) -> None:
        """Watch the send until its status callback; the send itself is done, so a failed mark only
        leaves this one unwatched (and must not make SQS redeliver a finished send)."""
        try:
            callbacks.expect(provider, provider_message_id, self.clock())
        except StoreUnavailable as failure:
            logger.warning("send not watched for its callback", provider=provider, error=str(failure))

    def _rejected(self, request: SendRequest, rejected: SendRejected) -> SendOutcome:
        now = self.clock()
        unsubscribed = rejected.code == UNSUBSCRIBED_RECIPIENT
        state = SendState.SUPPRESSED if unsubscribed else SendState.REJECTED
        self.records.finish(request.send_key, state, now, error=str(rejected)[:500], error_code=rejected.code)
        self._purpose_failed(request, str(rejected))
        if unsubscribed:
            self.consents.record_consent(
                ConsentChange(
                    channel=request.channel,
                    address=request.recipient,
                    consent=Consent.OPT_OUT,
                    at=datetime.fromtimestamp(now, tz=UTC).isoformat(),
                    message_pk=f"SEND#{request.send_key}",
                )
            )
            _count("SendsSuppressed")
            return "suppressed"
        _count("SendsRejected")
        logger.warning("send rejected by the provider", send_key=request.send_key, code=rejected.code)
        return "rejected"

    def _finish_draft(self, request: SendRequest, state: DraftState, **fields: str) -> None:
        """An auto-reply's draft follows its send's end (only from approved: a repeat changes nothing)."""
        if request.purpose != "auto_reply" or not request.draft_pk or self.drafts is None:
            return
        moved = self.drafts.finish_send(request.draft_pk, state, self.clock(), **fields)
        if state is DraftState.FAILED and moved:
            _count("AutoReplyFailures")
            logger.warning("auto-reply failed", send_key=request.send_key, provider=request.provider)

    def _redo_draft(self, request: SendRequest) -> None:
        """A send finished earlier, maybe by an attempt that died before its draft was moved: move it now."""
        if request.purpose != "auto_reply" or not request.draft_pk or self.drafts is None:
            return
        record = self.records.get(request.send_key) or {}
        if record.get("state") == SendState.SENT:
            self._finish_draft(
                request, DraftState.SENT, provider_message_id=str(record.get("provider_message_id") or "")
            )
        elif record.get("state") in (SendState.REJECTED, SendState.SUPPRESSED, SendState.FAILED):
            self._finish_draft(request, DraftState.FAILED, error=str(record.get("error") or record["state"]))

    def _superseded(self, request: SendRequest) -> bool:
        """A reminder moved, cancelled or already sent is never sent (checked before every attempt)."""
        if request.purpose != "reminder" or self.reminders is None:
            return False
        if self.reminders.current(request.send_key) is not None:
            return False
        _count("ReminderSendsSuperseded")
        logger.info("reminder no longer due at this version; not sent", send_key=request.send_key)
        return True

    def _purpose_failed(self, request: SendRequest, error: str) -> None:
        """A failed send ends what it was for: an auto-reply's draft, or a reminder."""
        self._finish_draft(request, DraftState.FAILED, error=error[:500])
        if request.purpose == "reminder" and self.reminders is not None:
            self.reminders.mark_failed(request.send_key, error, self.clock())

    def _store_outbound(self, request: SendRequest, sent: Sent) -> None:
        """The sent message is stored like an inbound one, so status callbacks and roll-up find it."""
        now = self.clock()
        message = Message(
            provider=request.provider,
            provider_message_id=sent.provider_message_id,
            channel=Channel(request.channel),
            direction=Direction.OUTBOUND,
            sender=request.sender,
            recipient=request.recipient,
            body=request.body,
            status=sent.status,
            occurred_at=datetime.fromtimestamp(now, tz=UTC),
            event_type="message.sent",
            raw={"send_key": request.send_key, "purpose": request.purpose},
        )
        store_and_enqueue(
            message,
            self.store,
            self.jobs,
            received_at=now,
            source="sender",
            process=request.purpose != "canary",
        )


def _retry_delay(policy: QueueRetry, receive_count: int, retry_after: float | None) -> int:
    """The backoff, or the provider's Retry-After when that is longer: a 429 is retried no sooner."""
    backoff = policy.visibility_timeout(receive_count)
    if retry_after is None:
        return backoff
    return min(SQS_MAX_VISIBILITY_SECONDS, max(backoff, math.ceil(retry_after)))


@once_per_container
def default_sender() -> Sender:
    """The sender wired to the environment's resources and provider endpoints, built once per container."""
    from switchboard.services.sender_wiring import build_sender

    return build_sender()
