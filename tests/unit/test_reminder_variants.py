"""Reminder A/B variants: deterministic per-recipient arms, and the planner using the assigned lead."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.models.recipients import Recipient
from switchboard.models.reminders import ReminderState
from switchboard.services.reminders.planning import PlanningInput, plan_reminder
from switchboard.services.reminders.rollout import bucket
from switchboard.services.reminders.text import TemplateWriter
from switchboard.services.reminders.variants import LEAD_ARMS, TEXT_ARMS, assign

IDS = [f"recipient-{n}" for n in range(1000)]
START = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # 12:00 in Los Angeles: outside quiet hours
EVENT: dict[str, Any] = {
    "provider": "calendar",
    "provider_message_id": "clinic:e1",
    "version": "00000000000000000002",
    "status": "confirmed",
    "title": "Physio",
    "start": START.isoformat(),
    "attendee_phone": "+14155550123",
}
RECIPIENT = Recipient(phone="+14155550123", time_zone="America/Los_Angeles", zone_source="booking")


def planned(digest: str, **changes: Any):
    given = PlanningInput(
        event=EVENT,
        stored=None,
        recipient=RECIPIENT,
        recipient_digest=digest,
        suppressed=False,
        now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
        writer=TemplateWriter(),
        **changes,
    )
    plan = plan_reminder(given)
    assert plan is not None and plan.state is ReminderState.SCHEDULED
    return plan


def test_a_recipient_keeps_its_arms_across_calls():
    # Given the same recipient id twice, When assigned, Then the arms are the same
    assert [assign(r) for r in IDS[:50]] == [assign(r) for r in IDS[:50]]


def test_every_arm_gets_recipients_over_a_thousand_ids():
    # Given 1,000 recipient ids, When each is assigned, Then every arm of both dimensions is used
    texts = Counter(assign(r).text for r in IDS)
    leads = Counter(assign(r).lead for r in IDS)
    assert set(texts) == set(TEXT_ARMS) and all(texts[arm] > 0 for arm in TEXT_ARMS)
    assert set(leads) == set(LEAD_ARMS) and all(leads[arm] > 0 for arm in LEAD_ARMS)
    assert sum(texts.values()) == sum(leads.values()) == len(IDS)


def test_the_rollout_bucket_is_unchanged_by_the_shared_hash_helper():
    # The helper was extracted from rollout.bucket: a changed bucket would reshuffle a live percentage
    import hashlib

    expected = int(hashlib.sha256(b"rollout:recipient-7").hexdigest()[:8], 16) % 100
    assert bucket("recipient-7") == expected


def test_variants_off_plan_with_the_recipients_own_lead_and_record_nothing():
    # Given variants off (the default), When planned, Then today's 15-minute lead and no variant
    plan = planned("recipient-1")
    assert plan.due_at == START - timedelta(minutes=RECIPIENT.lead_minutes)
    assert plan.variant is None


def test_variants_on_plan_with_the_assigned_lead_and_record_the_arms():
    # Given a recipient whose lead arm differs from its own lead, When planned with variants on
    digest = next(r for r in IDS if assign(r).lead != RECIPIENT.lead_minutes)
    plan = planned(digest, variants=True)
    # Then the assigned lead decides the due time, and the arms are recorded (template text: no LLM yet)
    arms = assign(digest)
    assert plan.due_at == START - timedelta(minutes=arms.lead)
    assert plan.variant == {"text": "template", "assigned_text": arms.text, "lead": arms.lead}
