"""The processing pipeline: steps from a stored event to a Plan of writes.

The steps compute; they write nothing. One reads: the auto-send gate asks the suppression list
(`is_suppressed`). The worker applies the plan in two parts: the consent change and the delivery merge are
conditional writes of their own, made first and idempotent by their conditions (a consent applies only if
newer, a delivery status only moves forward); the roll-up and the draft commit in one transaction with the
job's PROCESSING -> PROCESSED transition, so a retried job re-plans and a finished one is never re-applied.
Each step is skippable by configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchboard.models.classification import POSITIVE, Classification, Intent
from switchboard.models.drafts import Conversation
from switchboard.models.plan import (
    Consent,
    ConsentChange,
    ContactRollup,
    ConversationEntry,
    DeliveryMerge,
    DraftReply,
    Plan,
)
from switchboard.services.drafts.compose import DEFAULT_DRAFT, Drafter
from switchboard.services.drafts.policy import auto_send_hold
from switchboard.services.processing.classify import Classifier
from switchboard.services.processing.delivery import status_rank
from switchboard.services.processing.keywords import consent_change
from switchboard.services.processing.reply_text import reply_text

ALL_STEPS = frozenset({"consent", "classify", "rollup", "draft", "delivery"})
# Contact status after a reply with this intent (the lead roll-up's "status from the classification").
CONTACT_STATUS = {
    Intent.INTERESTED: "interested",
    Intent.MEETING_REQUESTED: "meeting_requested",
    Intent.NOT_INTERESTED: "not_interested",
    Intent.OUT_OF_OFFICE: "out_of_office",
    Intent.OPT_OUT: "opted_out",
    Intent.NEUTRAL: "replied",
}


@dataclass(frozen=True)
class PipelineConfig:
    steps: frozenset[str] = ALL_STEPS
    auto_send_providers: frozenset[str] = frozenset()  # off by default: AUTO_SEND_PROVIDERS
    draft_template: str = DEFAULT_DRAFT
    history_messages: int = 6  # earlier messages the draft strategy reads


SuppressionCheck = Callable[[str, str], bool]
ConversationReader = Callable[[str, int], Conversation]


def plan_event(
    item: dict[str, Any],
    config: PipelineConfig,
    classifier: Classifier,
    is_suppressed: SuppressionCheck,
    *,
    drafter: Drafter | None = None,
    conversation: ConversationReader | None = None,
) -> Plan:
    """Dispatch on the stored record's kind: messages get the full pipeline, statuses the merge;
    calendar events none of them (the worker's reminder step plans their reminder)."""
    if item.get("kind") == "calendar":
        return Plan(annotations={"kind": "calendar"})
    if item.get("kind") == "status":
        return _plan_status(item, config)
    return _plan_message(item, config, classifier, is_suppressed, drafter or Drafter(), conversation)


def _plan_status(item: dict[str, Any], config: PipelineConfig) -> Plan:
    plan = Plan()
    if "delivery" in config.steps:
        plan.delivery = DeliveryMerge(
            provider=item["provider"],
            provider_message_id=item["provider_message_id"],
            status=item["status"],
            rank=status_rank(item["status"]),
            at=item["occurred_at"],
            error_code=item.get("error_code"),
        )
    return plan


def _plan_message(
    item: dict[str, Any],
    config: PipelineConfig,
    classifier: Classifier,
    is_suppressed: SuppressionCheck,
    drafter: Drafter,
    conversation: ConversationReader | None,
) -> Plan:
    plan = Plan()
    inbound = item.get("direction") == "inbound"
    contact = item.get("sender") if inbound else item.get("recipient")
    channel = item.get("channel", "other")
    body = item.get("body", "")
    # An e-mail reply is judged on its new text alone: quoted history and signatures would mislead (the
    # record keeps the body as received).
    text = reply_text(body) if channel == "email" else body

    consent = consent_change(text, item.get("opt_out_type")) if inbound else None
    if consent and "consent" in config.steps and contact:
        plan.consent = ConsentChange(
            channel=channel, address=contact, consent=consent, at=item["occurred_at"], message_pk=item["pk"]
        )
        plan.annotations["consent"] = consent.value

    classification: Classification | None = None
    if inbound and "classify" in config.steps:
        classification = classifier.classify(text)
        plan.ai_calls.extend(classification.calls)
        if classification.fallback:
            plan.annotations["classifier_fallback"] = classification.fallback
        plan.annotations.update(
            intent=classification.intent.value,
            sentiment=classification.sentiment,
            classifier=classification.classifier,
        )

    if "rollup" in config.steps and contact:
        plan.rollup = ContactRollup(
            address=contact,
            at=item["occurred_at"],
            inbound=inbound,
            status=CONTACT_STATUS[classification.intent] if classification else None,
            pause_followups=inbound,
        )

    if "draft" in config.steps and contact and conversation is not None:
        # Every message joins its contact's conversation, which later drafts read (new text only).
        plan.conversation = ConversationEntry(contact, item["occurred_at"], inbound, text)

    if classification and classification.intent in POSITIVE and "draft" in config.steps and contact:
        plan.draft = _draft(item, config, drafter, conversation, classification, consent, is_suppressed, text)
        plan.ai_calls.extend(plan.draft.calls)
        plan.annotations["draft"] = "approved" if plan.draft.auto_send else "pending_review"
        plan.annotations["draft_variant"] = plan.draft.variant
    return plan


def _draft(
    item: dict[str, Any],
    config: PipelineConfig,
    drafter: Drafter,
    conversation: ConversationReader | None,
    classification: Classification,
    consent: Consent | None,
    is_suppressed: SuppressionCheck,
    text: str,
) -> DraftReply:
    contact, channel, provider = item["sender"], item.get("channel", "other"), item.get("provider", "")
    enabled = provider in config.auto_send_providers
    # One Query gives the roll-up (auto-send's "replied since?") and the history (the model's context).
    history = (
        conversation(contact, config.history_messages)
        if conversation and (enabled or drafter.needs_history)
        else None
    )
    hold = auto_send_hold(
        enabled=enabled,
        opted_out=consent is Consent.OPT_OUT,
        suppressed=lambda: is_suppressed(channel, contact),
        conversation=history,
        reply_at=item["occurred_at"],
    )
    status = CONTACT_STATUS[classification.intent]
    drafted = drafter.draft(text, status, history.lines if history else ())
    return DraftReply(
        to=contact,
        channel=channel,
        text=drafted.text,
        auto_send=hold is None,
        provider=provider,
        sender=item.get("recipient", ""),
        variant=drafted.variant,
        fallback=drafted.fallback,
        hold=hold,
        calls=drafted.calls,
    )
