"""From a stored calendar event version to its reminder plan: pure (the caller reads and writes).

A version older than (or equal to) the stored one is not planned: changes arrive out of order and
retries repeat. Every newer version yields a full plan: cancelled, rescheduled, or re-worded, with the
reason when it is not sent. A version whose reminder already went out is not sent again unless the
event's time moved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from switchboard.models.recipients import Recipient
from switchboard.models.reminders import AFTER_SEND, ReminderPlan, ReminderState
from switchboard.services.reminders import rules
from switchboard.services.reminders.llm_text import LlmReminderWriter, WrittenText
from switchboard.services.reminders.numbers import number_zones, us_state
from switchboard.services.reminders.text import REMINDER, TextRequest, TextWriter
from switchboard.services.reminders.variants import Variant, assign


@dataclass(frozen=True)
class PlanningInput:
    event: dict[str, Any]  # the stored CalendarEvent record (dal/events_table.py to_item)
    stored: dict[str, Any] | None  # the event's reminder record, if any
    recipient: Recipient | None
    recipient_digest: str | None
    suppressed: bool
    now: datetime
    writer: TextWriter
    profile: rules.ComplianceProfile | None = None
    variants: bool = False  # REMINDER_VARIANTS=on: the recipient's A/B arms decide lead and text
    llm_writer: LlmReminderWriter | None = None  # the llm arm's writer; None: the template for all


def recipient_rules(
    recipient: Recipient, profile: rules.ComplianceProfile | None, lead_minutes: int | None = None
) -> rules.Rules:
    """The recipient's rules; `lead_minutes` (a variant's lead) overrides the recipient's own."""
    base = rules.Rules(
        lead=timedelta(minutes=recipient.lead_minutes if lead_minutes is None else lead_minutes),
        quiet=(rules.QuietWindow(recipient.quiet_start, recipient.quiet_end),),
        daily_limit=recipient.daily_limit,
    )
    return rules.with_compliance(base, profile, us_state(recipient.phone))


def recipient_zones(event: dict[str, Any], recipient: Recipient) -> tuple[str, ...]:
    """An operator's zone wins; then this booking's attendee zone, a zone learned from an earlier
    booking, every zone the number maps to, the event's own zone, UTC."""
    if recipient.zone_source == "operator" and recipient.time_zone:
        return (recipient.time_zone,)
    attendee = event.get("attendee_time_zone") or recipient.time_zone
    return rules.zones_for(attendee, number_zones(recipient.phone), event.get("time_zone"))


def _start(event: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(event["start"]) if event.get("start") else None


def _all_day(event: dict[str, Any]) -> date | None:
    return date.fromisoformat(event["all_day"]) if event.get("all_day") else None


def _changes(event: dict[str, Any], stored: dict[str, Any] | None) -> tuple[str, ...]:
    if stored is None:
        return ("created",)
    changes = []
    if event.get("status") == "cancelled":
        changes.append("cancelled")
    elif (event.get("start"), event.get("all_day")) != (stored.get("start"), stored.get("all_day")):
        changes.append("rescheduled")
    if (event.get("title", ""), event.get("location")) != (stored.get("title", ""), stored.get("location")):
        changes.append("text_regenerated")
    return tuple(changes)


def _blocked(given: PlanningInput) -> str | None:
    """Why this event can get no reminder whatever its time, or None."""
    if given.event.get("status") == "cancelled":
        return rules.EVENT_CANCELLED
    if given.recipient is None:
        return rules.NO_PHONE
    if given.suppressed:
        return rules.SUPPRESSED
    if not given.recipient.enabled:
        return rules.RECIPIENT_DISABLED
    return None


def plan_reminder(given: PlanningInput) -> ReminderPlan | None:
    """The reminder for this event version, or None when the stored reminder is as new or newer."""
    event, stored = given.event, given.stored
    version = str(event["version"])
    if stored is not None and str(stored.get("version", "")) >= version:
        return None
    changes = _changes(event, stored)
    plan = ReminderPlan(
        calendar=event["provider"],
        event_id=event["provider_message_id"],
        version=version,
        state=ReminderState.CANCELLED,
        phone=given.recipient.phone if given.recipient else None,
        recipient=given.recipient_digest,
        title=event.get("title", ""),
        location=event.get("location"),
        start=event.get("start"),
        all_day=event.get("all_day"),
        changes=changes,
    )
    already = ReminderState(stored["state"]) if stored and stored.get("state") in AFTER_SEND else None
    if already and "rescheduled" not in changes:
        return _replace(plan, state=already)  # sent once for this time: a rename or cancel cannot unsend
    reason = _blocked(given)
    if reason or given.recipient is None:
        return _replace(plan, reason=reason)
    zones = recipient_zones(event, given.recipient)
    variant = _variant(given)
    lead = variant.lead if variant else None
    decision = rules.decide(
        _start(event),
        _all_day(event),
        zones,
        recipient_rules(given.recipient, given.profile, lead),
        given.now,
    )
    if decision.send_at is None:
        return _replace(plan, reason=decision.reason, zones=zones)
    written = _write(
        given,
        variant,
        TextRequest(
            purpose=REMINDER,
            title=plan.title,
            start=_start(event),
            all_day=_all_day(event),
            location=plan.location,
            zone=zones[0],
            twelve_hour=given.recipient.phone.startswith("+1"),
        ),
    )
    return _replace(
        plan,
        state=ReminderState.SCHEDULED,
        due_at=decision.send_at,
        local_day=rules.local_day(decision.send_at, zones[0]).isoformat(),
        zones=zones,
        text=written.text,
        moved_by_quiet_hours=decision.moved_by_quiet_hours,
        variant=variant.record(written.source, written.fallback) if variant else None,
        ai_calls=written.calls,
    )


def _write(given: PlanningInput, variant: Variant | None, request: TextRequest) -> WrittenText:
    """The llm arm's text when a model is configured (the template is its fallback), else the template."""
    if variant and variant.text == "llm" and given.llm_writer is not None:
        return given.llm_writer.write(request)
    return WrittenText(given.writer.write(request), "template", None, ())


def _variant(given: PlanningInput) -> Variant | None:
    return assign(given.recipient_digest) if given.variants and given.recipient_digest else None


def _replace(plan: ReminderPlan, **changes: Any) -> ReminderPlan:
    return replace(plan, **changes)
