"""The worker: runs one processing job exactly once in effect, and decides what a failure means.

A retryable failure hides the message for its backoff (retry.PROCESSING_JOBS: 1, 2, 4, 8, 16 min) and
reports it failed; the last allowed failure, or any permanent one, goes to the dead-letter queue at once
("exhausted"): the record is marked exhausted first, then the job is sent to the DLQ, then the message is
acknowledged. A failure of either write keeps the message; it comes back past its last attempt and only the
dead-lettering is finished then, so the DLQ gets one copy, with its reason (template.yaml's maxReceiveCount
leaves room).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import ValidationError

from switchboard.container import once_per_container
from switchboard.errors import JobAlreadyDone, JobBusy, JobMissing
from switchboard.models import Job
from switchboard.models.drafts import Conversation
from switchboard.models.plan import Consent, ConsentChange, DeliveryMerge, Plan
from switchboard.observability import logger, metrics
from switchboard.retry import PROCESSING_JOBS, QueueRetry
from switchboard.services.drafts.compose import Drafter
from switchboard.services.drafts.dispatch import DraftDispatch
from switchboard.services.processing.classify import Classifier, RulesClassifier
from switchboard.services.processing.delivery import final_outcome
from switchboard.services.processing.model_calls import publish_metrics
from switchboard.services.processing.pipeline import PipelineConfig, plan_event
from switchboard.services.reminders.ratings import ReminderRatingStep

if TYPE_CHECKING:
    from switchboard.dal.secrets import WebhookSecrets
    from switchboard.function_settings import WorkerSettings
    from switchboard.services.processing.model_calls import ModelCaller


class PermanentJobError(Exception):
    """Retrying cannot help (bad job, record gone): dead-letter on the first failure."""


class InjectedFailure(Exception):
    """A failure asked for by the message itself (local stack and tests only)."""


class Records(Protocol):
    def claim(self, key: dict[str, str], now: float, lease_seconds: int) -> dict[str, Any]: ...
    def commit(self, record: dict[str, Any], plan: Plan, *, now: float) -> None: ...
    def record_failure(self, record: dict[str, Any], error: str, *, now: float, exhausted: bool) -> None: ...
    def mark_exhausted(self, key: dict[str, str], error: str | None, *, now: float) -> str | None: ...
    def is_suppressed(self, channel: str, address: str) -> bool: ...
    def record_consent(self, change: ConsentChange) -> bool: ...
    def merge_delivery_returning(self, merge: DeliveryMerge) -> dict[str, Any] | None: ...
    def conversation(self, address: str, limit: int) -> Conversation: ...


class CalendarStep(Protocol):
    def process(self, event: dict[str, Any], *, now: float) -> dict[str, Any]: ...


class ReminderDeliveryStep(Protocol):
    def record(self, merged: dict[str, Any], merge: DeliveryMerge, *, now: float) -> bool: ...


class Queues(Protocol):
    def retry_later(self, receipt_handle: str, seconds: int) -> None: ...
    def dead_letter(
        self, body: str, *, error: str, attempts: int, reason: str, provider: str = "", job_type: str = ""
    ) -> None: ...


Outcome = Literal["processed", "skipped", "retrying", "dead_lettered"]
_FAULT = re.compile(r"#fail(\d*)")


def injected_fault(body: str, attempt: int) -> None:
    """'#fail' fails every attempt, '#fail3' the first three: the retry ladder made visible locally."""
    match = _FAULT.search(body)
    if match and (not match.group(1) or attempt <= int(match.group(1))):
        raise InjectedFailure(f"injected failure on attempt {attempt}")


def _count(name: str) -> None:
    # A batch mixes providers: job metrics carry no provider dimension (`switchboard jobs stats` splits them).
    metrics.add_metric(name=name, unit="Count", value=1)


def _count_delivery(merge: DeliveryMerge) -> None:
    """A message's first final status (the merge moved it there): the delivery-rate alarm's inputs."""
    outcome = final_outcome(merge.status)
    if outcome == "delivered":
        _count("MessagesDelivered")
    elif outcome == "failed":
        _count("MessagesUndelivered")


def _count_consent(change: ConsentChange) -> None:
    """A recorded opt-out (not a repeated one): the opt-out-rate alarm's numerator."""
    if change.consent is Consent.OPT_OUT:
        _count("OptOuts")


class Worker:
    def __init__(
        self,
        records: Records,
        queues: Queues,
        *,
        config: PipelineConfig | None = None,
        classifier: Classifier | None = None,
        retry: QueueRetry = PROCESSING_JOBS,
        lease_seconds: int = 120,
        fault_injection: bool = False,
        clock: Callable[[], float] = time.time,
        reminders: CalendarStep | None = None,
        drafter: Drafter | None = None,
        dispatch: DraftDispatch | None = None,
        reminder_deliveries: ReminderDeliveryStep | None = None,
        ratings: ReminderRatingStep | None = None,
    ) -> None:
        self.records = records
        self.drafter = drafter or Drafter()
        self.dispatch = dispatch or DraftDispatch()
        self.reminders = reminders
        self.reminder_deliveries = reminder_deliveries
        self.ratings = ratings
        self.queues = queues
        self.config = config or PipelineConfig()
        self.classifier = classifier or RulesClassifier()
        self.retry = retry
        self.lease_seconds = lease_seconds
        self.fault_injection = fault_injection
        self.clock = clock

    def handle(self, body: str, *, receipt_handle: str, receive_count: int) -> Outcome:
        """One SQS record. Returns normally when the message may be deleted; raises to keep it queued."""
        try:
            job = Job.model_validate_json(body)
        except ValidationError as invalid:
            return self._dead_letter(body, None, _describe(invalid), receive_count, reason="permanent")
        if self.retry.is_past_last_attempt(receive_count):
            # Back after its last attempt: its dead-lettering failed (or that attempt died). Finish the
            # dead-lettering with the recorded error; the job is not run again.
            return self._dead_letter(body, job, None, receive_count, reason="exhausted")
        try:
            return self.run(job)
        except (PermanentJobError, ValidationError) as permanent:
            return self._dead_letter(body, job, _describe(permanent), receive_count, reason="permanent")
        except Exception as failure:
            if self.retry.is_exhausted(receive_count):
                return self._dead_letter(body, job, _describe(failure), receive_count, reason="exhausted")
            delay = self.retry.visibility_timeout(receive_count)
            self.queues.retry_later(receipt_handle, delay)
            _count("JobsRetried")
            logger.warning(
                "job failed; retrying",
                error=_describe(failure),
                receive_count=receive_count,
                retry_in_seconds=delay,
            )
            raise

    def run(self, job: Job) -> Outcome:
        key = {"pk": job.pk, "sk": job.sk}
        try:
            record = self.records.claim(key, self.clock(), self.lease_seconds)
        except JobAlreadyDone:
            _count("JobsSkipped")
            return "skipped"
        except JobMissing as missing:
            raise PermanentJobError(str(missing)) from missing
        try:
            if self.fault_injection:
                injected_fault(str(record.get("body", "")), int(record["attempts"]))
            plan = plan_event(
                record,
                self.config,
                self.classifier,
                self.records.is_suppressed,
                drafter=self.drafter,
                conversation=self.records.conversation,
            )
            publish_metrics(plan.ai_calls)  # the calls were made (and billed) whatever happens next
            if plan.consent and self.records.record_consent(plan.consent):
                _count_consent(plan.consent)
            if plan.delivery:
                merged = self.records.merge_delivery_returning(plan.delivery)
                if merged:
                    _count_delivery(plan.delivery)
                if merged and merged.get("reminder_pk") and self.reminder_deliveries is not None:
                    self.reminder_deliveries.record(merged, plan.delivery, now=self.clock())
            if self.ratings is not None:  # a 1-5 reply to a reminder: its own conditional write
                plan.annotations.update(self.ratings.record(record, now=self.clock()))
            if record.get("kind") == "calendar" and self.reminders is not None:
                # Its own conditional writes, made before the commit: a retried job finishes them
                outcome = self.reminders.process(record, now=self.clock())
                plan.ai_calls.extend(outcome.pop("ai_calls", ()))  # the llm arm's calls: usage records
                plan.annotations.update(outcome)
            self.records.commit(record, plan, now=self.clock())
        except JobBusy:
            raise
        except Exception as failure:
            self.records.record_failure(record, _describe(failure), now=self.clock(), exhausted=False)
            raise
        self.dispatch.after_commit(record, plan)  # sends and notices only after the commit: at most once
        _count("JobsProcessed")
        logger.info("job processed", pk=job.pk, attempts=record["attempts"], **plan.annotations)
        return "processed"

    def _dead_letter(
        self, body: str, job: Job | None, error: str | None, receive_count: int, *, reason: str
    ) -> Outcome:
        """Record first, DLQ second: SQS standard queues do not dedupe, so only a send that is the last
        write can never be repeated by a retry of this step. `error` None: use the recorded one."""
        if job is not None:
            error = (
                self.records.mark_exhausted({"pk": job.pk, "sk": job.sk}, error, now=self.clock()) or error
            )
        error = error or "attempts exhausted; the last one recorded no error"
        self.queues.dead_letter(
            body,
            error=error,
            attempts=min(receive_count, self.retry.attempts),  # receives past it only dead-lettered
            reason=reason,
            provider=job.provider if job else "",
            job_type=job.kind if job else "",
        )
        _count("JobsExhausted")
        logger.error("job dead-lettered", reason=reason, error=error, receive_count=receive_count)
        return "dead_lettered"


def _describe(failure: Exception) -> str:
    return f"{type(failure).__name__}: {failure}"[:1000]


def _model_caller(settings: WorkerSettings, secrets: WebhookSecrets) -> ModelCaller | None:
    """None unless LLM_PROVIDER names a model API (the rules and the template are then the fallbacks)."""
    if not settings.llm_provider:
        return None
    from switchboard.providers.llm import llm_client
    from switchboard.services.processing.model_calls import ModelCaller

    client = llm_client(
        settings.llm_provider,
        settings.llm_model,
        base_url=settings.llm_base_url,
        timeout_seconds=settings.llm_timeout_seconds,
        # Read per call: Powertools caches the secret (5 min), so a rotated key arrives without a restart.
        api_key=lambda: str(secrets.for_provider("llm").get("api_key") or ""),
    )
    return ModelCaller(client, settings.llm_prices)


def _classifier(caller: ModelCaller | None) -> Classifier:
    if caller is None:
        return RulesClassifier()
    from switchboard.services.processing.llm_classify import LlmClassifier

    return LlmClassifier(caller)


def _dispatch(settings: WorkerSettings, secrets: WebhookSecrets) -> DraftDispatch:
    from switchboard.dal.outbound_queue import OutboundQueue

    def notify(text: str) -> bool:
        # Read per notice (cached by Powertools): adding or rotating the hook needs no restart.
        url = str(secrets.for_provider("slack").get("webhook_url") or "")
        if not url:
            return False
        from switchboard.providers.slack import post_message

        post_message(url, text)
        return True

    from switchboard.dal.drafts import Drafts

    queue = OutboundQueue(settings.outbound_queue_url) if settings.outbound_queue_url else None
    return DraftDispatch(queue, notify, Drafts(settings.table_name))


@once_per_container
def default_worker() -> Worker:
    """The worker wired to the resources named in the environment, built once per container."""
    from switchboard.dal.address_keys import AddressKeys
    from switchboard.dal.dead_letters import RetryQueues
    from switchboard.dal.job_records import JobRecords
    from switchboard.dal.reminder_ratings import ReminderRatings
    from switchboard.dal.secrets import WebhookSecrets
    from switchboard.function_settings import worker_settings
    from switchboard.services.processing.pipeline import ALL_STEPS
    from switchboard.services.reminders.service import worker_reminder_service

    settings = worker_settings()
    steps = frozenset(s.strip() for s in settings.pipeline_steps.split(",") if s.strip()) or ALL_STEPS
    secrets = WebhookSecrets(settings.webhook_secrets_name)
    address_keys = AddressKeys.from_secrets(secrets)  # one keyed hash for contacts and recipients alike
    records = JobRecords(settings.table_name, address_keys=address_keys)
    caller = _model_caller(settings, secrets)
    return Worker(
        records,
        RetryQueues(settings.processing_queue_url, settings.processing_dlq_url),
        config=PipelineConfig(steps=steps & ALL_STEPS, auto_send_providers=settings.auto_send_provider_set),
        classifier=_classifier(caller),
        drafter=Drafter(caller),
        dispatch=_dispatch(settings, secrets),
        retry=replace(
            PROCESSING_JOBS,
            base_seconds=settings.backoff_base_seconds,
            cap_seconds=settings.backoff_cap_seconds,
            jitter=settings.backoff_jitter,
        ),
        lease_seconds=settings.job_lease_seconds,
        fault_injection=settings.fault_injection,
        reminders=worker_reminder_service(settings, records.is_suppressed, address_keys, caller),
        reminder_deliveries=_reminder_deliveries(settings),
        ratings=ReminderRatingStep(ReminderRatings(settings.table_name, address_keys=address_keys)),
    )


def _reminder_deliveries(settings: Any) -> ReminderDeliveryStep:
    from switchboard.dal.reminder_sends import ReminderSends
    from switchboard.services.reminders.delivery import ReminderDeliveries

    return ReminderDeliveries(ReminderSends(settings.table_name))
