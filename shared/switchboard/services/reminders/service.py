"""The worker's calendar step: a stored CalendarEvent version -> its reminder record.

Reads the recipient, the suppression list and the stored reminder; plans (planning.py, pure); writes in
an order a retry can finish: the new day's slot, the reminder (conditional on version and state), then
the old day's slot and a replaced booking's reminder. A version already written is finished, not re-planned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from switchboard.models.recipients import Recipient
from switchboard.models.reminders import ReminderPlan, ReminderState
from switchboard.observability import logger, metrics
from switchboard.services.processing.model_calls import publish_metrics
from switchboard.services.reminders import rules
from switchboard.services.reminders.llm_text import LlmReminderWriter
from switchboard.services.reminders.planning import PlanningInput, plan_reminder
from switchboard.services.reminders.rollout import ALWAYS, Rollout
from switchboard.services.reminders.text import TemplateWriter, TextWriter

REPLACED = "rescheduled"  # reason on a booking's reminder when a reschedule replaced the booking


class RecipientStore(Protocol):
    def id_of(self, phone: str) -> str: ...
    def get(self, phone: str) -> Recipient | None: ...
    def put_if_absent(self, recipient: Recipient, now: float) -> bool: ...


class ReminderStore(Protocol):
    def get(self, calendar: str, event_id: str) -> dict[str, Any] | None: ...
    def write(
        self, plan: ReminderPlan, *, seen: dict[str, Any] | None, now: float
    ) -> tuple[bool, dict[str, Any]]: ...
    def cancel(self, calendar: str, event_id: str, reason: str, *, now: float) -> dict[str, Any] | None: ...
    def claim_slot(self, recipient: str, local_day: str, event_id: str, limit: int) -> bool: ...
    def release_slot(self, recipient: str, local_day: str, event_id: str) -> None: ...


def _count(name: str) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)


class ReminderService:
    def __init__(
        self,
        recipients: RecipientStore,
        reminders: ReminderStore,
        is_suppressed: Callable[[str, str], bool],
        *,
        writer: TextWriter | None = None,
        profile: rules.ComplianceProfile | None = None,
        rollout: Rollout = ALWAYS,
        variants: bool = False,
        llm_writer: LlmReminderWriter | None = None,
    ) -> None:
        self.recipients = recipients
        self.reminders = reminders
        self.is_suppressed = is_suppressed
        self.writer = writer or TemplateWriter()
        self.profile = profile
        self.rollout = rollout
        self.variants = variants
        self.llm_writer = llm_writer

    def process(self, event: dict[str, Any], *, now: float) -> dict[str, Any]:
        """Plan and write the reminder of one stored event version; returns the job's annotations."""
        calendar, event_id = event["provider"], event["provider_message_id"]
        stored = self.reminders.get(calendar, event_id)
        if stored is not None and str(stored.get("version")) == str(event["version"]):
            self._finish(stored, event, now)  # a retry after the write: only the follow-ups remain
            return {"reminder": "already_planned"}
        recipient = self._recipient(event, now)
        digest = self.recipients.id_of(recipient.phone) if recipient else None
        plan = plan_reminder(
            PlanningInput(
                event=event,
                stored=stored,
                recipient=recipient,
                recipient_digest=digest,
                suppressed=bool(recipient and self.is_suppressed("sms", recipient.phone)),
                now=datetime.fromtimestamp(now, tz=UTC),
                writer=self.writer,
                profile=self.profile,
                variants=self.variants,
                llm_writer=self.llm_writer,
            )
        )
        if plan is not None and plan.ai_calls:
            publish_metrics(list(plan.ai_calls))  # made (and billed) whatever the write does
        if plan is None:
            _count("RemindersStaleIgnored")
            logger.info(
                "reminder change ignored: an equal or newer version is stored", version=event["version"]
            )
            return {"reminder": "stale"}
        plan = self._within_daily_limit(self._within_rollout(plan), recipient)
        written, newer = self.reminders.write(plan, seen=stored, now=now)
        if not written:
            if plan.state is ReminderState.SCHEDULED and newer.get("local_day") != plan.local_day:
                self._release(plan.recipient, plan.local_day, event_id)  # the newer version holds its own
            _count("RemindersStaleIgnored")
            return {"reminder": "stale"}
        self._finish({**(stored or {}), "previous_day": _scheduled_day(stored)}, event, now, plan)
        self._record(plan)
        return {
            "reminder": plan.state.value,
            "reminder_reason": plan.reason,
            "reminder_changes": list(plan.changes),
            **({"ai_calls": list(plan.ai_calls)} if plan.ai_calls else {}),  # the worker commits them
        }

    def _recipient(self, event: dict[str, Any], now: float) -> Recipient | None:
        phone = event.get("attendee_phone")
        if not phone:
            return None
        found = self.recipients.get(phone)
        if found is not None:
            return found
        learned = Recipient(
            phone=phone,
            time_zone=event.get("attendee_time_zone"),
            zone_source="booking" if event.get("attendee_time_zone") else "default",
        )
        self.recipients.put_if_absent(learned, now)
        return learned

    def _within_rollout(self, plan: ReminderPlan) -> ReminderPlan:
        """Outside the rollout, or paused: cancelled with that reason before it takes a daily slot."""
        if plan.state is not ReminderState.SCHEDULED or not plan.recipient:
            return plan
        reason = self.rollout.refusal(plan.recipient)
        if reason is None:
            return plan
        return replace(plan, state=ReminderState.CANCELLED, reason=reason, due_at=None, local_day=None)

    def _within_daily_limit(self, plan: ReminderPlan, recipient: Recipient | None) -> ReminderPlan:
        if plan.state is not ReminderState.SCHEDULED or not (recipient and plan.recipient and plan.local_day):
            return plan
        if self.reminders.claim_slot(plan.recipient, plan.local_day, plan.event_id, recipient.daily_limit):
            return plan
        return replace(
            plan, state=ReminderState.CANCELLED, reason=rules.DAILY_LIMIT, due_at=None, local_day=None
        )

    def _finish(
        self, before: dict[str, Any], event: dict[str, Any], now: float, plan: ReminderPlan | None = None
    ) -> None:
        """Follow-ups of a written version (safe to repeat): free the old day's slot, cancel a replaced
        booking's reminder."""
        old_day, new_day = before.get("previous_day"), plan.local_day if plan else before.get("local_day")
        if old_day and old_day != new_day:  # the slot was taken under the stored version's recipient
            self._release(before.get("recipient"), old_day, event["provider_message_id"])
        if event.get("replaces"):
            replaced = self.reminders.cancel(event["provider"], event["replaces"], REPLACED, now=now)
            if replaced and replaced.get("local_day"):
                self._release(replaced.get("recipient"), replaced["local_day"], event["replaces"])

    def _release(self, recipient: str | None, local_day: str | None, event_id: str) -> None:
        if recipient and local_day:
            self.reminders.release_slot(recipient, local_day, event_id)

    def _record(self, plan: ReminderPlan) -> None:
        if plan.state is ReminderState.SCHEDULED:
            _count("RemindersScheduled")
        elif plan.state is ReminderState.CANCELLED:
            _count("RemindersCancelled")
            if plan.reason == rules.NO_PHONE:
                _count("RemindersWithoutPhone")
        logger.info(
            "reminder planned",
            state=plan.state.value,
            reason=plan.reason,
            changes=list(plan.changes),
            due_at=plan.due_at.isoformat() if plan.due_at else None,
        )


def _scheduled_day(stored: dict[str, Any] | None) -> str | None:
    return stored.get("local_day") if stored and stored.get("state") == "scheduled" else None


def worker_reminder_service(
    settings: Any, is_suppressed: Callable[[str, str], bool], address_keys: Any, caller: Any = None
) -> ReminderService:
    """The worker's calendar step wired to its settings (`caller`: the worker's ModelCaller, if any)."""
    from switchboard.dal.recipients import Recipients
    from switchboard.dal.reminders import ReminderRecords
    from switchboard.dal.rollout_flag import RolloutFlagStore

    return ReminderService(
        Recipients(settings.table_name, address_keys=address_keys),
        ReminderRecords(settings.table_name),
        is_suppressed,
        profile=rules.US_STATE_WINDOWS if settings.reminder_compliance_profile == "us_states" else None,
        rollout=Rollout(RolloutFlagStore(settings.reminders_rollout_parameter).read),
        variants=settings.reminder_variants == "on",
        llm_writer=LlmReminderWriter(caller) if caller else None,
    )
