"""Pipeline steps: keywords, classification, planning — pure functions, no AWS."""

from __future__ import annotations

import pytest

from switchboard.models.plan import Consent
from switchboard.services.processing.classify import Intent, RulesClassifier
from switchboard.services.processing.delivery import status_rank
from switchboard.services.processing.keywords import consent_change
from switchboard.services.processing.pipeline import ALL_STEPS, PipelineConfig, plan_event


@pytest.mark.parametrize(
    "body", ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "optout"]
)
def test_whole_message_opt_out_keywords(body):
    assert consent_change(body) is Consent.OPT_OUT


@pytest.mark.parametrize("body", ["START", "yes", "Unstop"])
def test_opt_in_keywords(body):
    assert consent_change(body) is Consent.OPT_IN


@pytest.mark.parametrize("body", ["Stop please", "please STOP texting me later", "STOP STOP", ""])
def test_keywords_inside_a_sentence_are_not_consent_changes(body):
    assert consent_change(body) is None


def test_help_is_recorded_as_help():
    assert consent_change("help") is Consent.HELP


def test_twilio_opt_out_type_is_authoritative():
    assert consent_change("Arrêt", opt_out_type="STOP") is Consent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Yes, I'm interested in a call", Intent.MEETING_REQUESTED),
        ("Yes, Tuesday at 3pm works for me", Intent.MEETING_REQUESTED),
        ("Sounds good, tell me more", Intent.INTERESTED),
        ("Not interested, remove me", Intent.OPT_OUT),
        ("Not interested", Intent.NOT_INTERESTED),
        ("No thanks", Intent.NOT_INTERESTED),
        ("I'm out of the office until Monday", Intent.OUT_OF_OFFICE),
        ("Thanks", Intent.NEUTRAL),
        ("", Intent.NEUTRAL),
        ("   ", Intent.NEUTRAL),
        ("STOP", Intent.OPT_OUT),
    ],
)
def test_rules_classifier(text, intent):
    assert RulesClassifier().classify(text).intent is intent


def test_sentiment_follows_intent():
    classifier = RulesClassifier()

    assert classifier.classify("Sounds great").sentiment == "positive"
    assert classifier.classify("No thanks").sentiment == "negative"
    assert classifier.classify("Thanks").sentiment == "neutral"


def test_a_late_sent_ranks_below_delivered_and_read_above_it():
    assert status_rank("sent") < status_rank("delivered") == status_rank("undelivered") < status_rank("read")


def inbound(body: str, **extra):
    return {
        "pk": "EVT#twilio#SM1",
        "sk": "MESSAGE",
        "kind": "message",
        "provider": "twilio",
        "provider_message_id": "SM1",
        "direction": "inbound",
        "channel": "sms",
        "sender": "+14155550123",
        "recipient": "+14155559876",
        "body": body,
        "occurred_at": "2026-11-25T08:00:00Z",
        **extra,
    }


def never_suppressed(channel, address):
    return False


def test_positive_reply_gets_a_draft_but_no_auto_send_by_default():
    plan = plan_event(
        inbound("Sounds great, tell me more"), PipelineConfig(), RulesClassifier(), never_suppressed
    )

    assert plan.draft is not None and plan.draft.auto_send is False
    assert plan.annotations["draft"] == "pending_review"


def test_auto_send_requires_the_provider_switched_on_and_a_positive_unsuppressed_contact():
    config = PipelineConfig(auto_send_providers=frozenset({"twilio"}))

    allowed = plan_event(inbound("Sounds great"), config, RulesClassifier(), never_suppressed)
    suppressed = plan_event(inbound("Sounds great"), config, RulesClassifier(), lambda c, a: True)
    neutral = plan_event(inbound("Thanks"), config, RulesClassifier(), never_suppressed)
    negative = plan_event(inbound("No thanks"), config, RulesClassifier(), never_suppressed)

    assert allowed.draft is not None and suppressed.draft is not None
    assert allowed.draft.auto_send is True
    assert (suppressed.draft.auto_send, suppressed.draft.hold) == (False, "suppressed")
    assert neutral.draft is None and negative.draft is None


def test_auto_send_is_off_for_a_provider_not_listed():
    # Given auto-send on for Instantly only / When a positive Twilio reply is planned
    config = PipelineConfig(auto_send_providers=frozenset({"instantly"}))
    plan = plan_event(inbound("Sounds great"), config, RulesClassifier(), never_suppressed)
    # Then its draft waits for review, saying why
    assert plan.draft is not None
    assert (plan.draft.auto_send, plan.draft.hold) == (False, "disabled")


def conversation_after(last_message_at, last_inbound_at):
    from switchboard.models.drafts import Conversation

    return lambda address, limit: Conversation(last_message_at, last_inbound_at)


@pytest.mark.parametrize(
    ("last_message_at", "last_inbound_at", "hold"),
    [
        ("2026-11-25T09:00:00Z", "2026-11-25T07:00:00Z", "replied_since"),
        ("2026-11-25T09:00:00Z", "2026-11-25T09:00:00Z", "newer_reply"),
        ("2026-11-25T07:00:00Z", "2026-11-25T07:00:00Z", None),
    ],
)
def test_auto_send_holds_when_the_contact_got_a_message_since_the_reply(
    last_message_at, last_inbound_at, hold
):
    # Given auto-send on, and a roll-up whose last message is after (or before) the 08:00 reply
    config = PipelineConfig(auto_send_providers=frozenset({"twilio"}))
    # When the reply is planned
    plan = plan_event(
        inbound("Sounds great"),
        config,
        RulesClassifier(),
        never_suppressed,
        conversation=conversation_after(last_message_at, last_inbound_at),
    )
    # Then a message since the reply holds the draft for review, with the reason
    assert plan.draft is not None
    assert plan.draft.hold == hold and plan.draft.auto_send is (hold is None)


def test_any_inbound_reply_pauses_follow_ups_and_sets_the_contact_status():
    plan = plan_event(inbound("No thanks"), PipelineConfig(), RulesClassifier(), never_suppressed)

    assert plan.rollup is not None
    assert plan.rollup.pause_followups is True
    assert plan.rollup.status == "not_interested"


def test_stop_plans_an_opt_out_for_the_sender():
    plan = plan_event(inbound("STOP"), PipelineConfig(), RulesClassifier(), never_suppressed)

    assert plan.consent is not None
    assert (plan.consent.consent, plan.consent.address, plan.consent.channel) == (
        Consent.OPT_OUT,
        "+14155550123",
        "sms",
    )


def test_outbound_messages_roll_up_without_classification():
    plan = plan_event(
        inbound("Hi there", direction="outbound"), PipelineConfig(), RulesClassifier(), never_suppressed
    )

    assert plan.rollup is not None
    assert plan.rollup.address == "+14155559876" and plan.rollup.inbound is False
    assert "intent" not in plan.annotations and plan.consent is None


def test_steps_can_be_switched_off():
    config = PipelineConfig(steps=ALL_STEPS - {"classify", "rollup"})

    plan = plan_event(inbound("Sounds great"), config, RulesClassifier(), never_suppressed)

    assert plan.rollup is None and "intent" not in plan.annotations and plan.draft is None


def test_status_events_plan_a_delivery_merge_only():
    status = {
        "pk": "EVT#twilio#SM9",
        "sk": "STATUS#delivered",
        "kind": "status",
        "provider": "twilio",
        "provider_message_id": "SM9",
        "status": "delivered",
        "occurred_at": "2026-11-25T08:00:00Z",
    }

    plan = plan_event(status, PipelineConfig(), RulesClassifier(), never_suppressed)

    assert plan.delivery is not None
    assert (plan.delivery.status, plan.delivery.rank) == ("delivered", status_rank("delivered"))
    assert plan.rollup is None


QUOTED_EMAIL = (
    "Yes, let's talk Tuesday.\n\nBest,\nMaya\n\n"
    "On Mon, Nov 24, 2026 at 3:30 PM Alex <alex@example.com> wrote:\n"
    "> Not interested? Reply to unsubscribe."
)


def test_an_email_reply_is_classified_on_its_new_text_only():
    # Given an e-mail reply whose quoted history holds opt-out words
    item = inbound(QUOTED_EMAIL, channel="email", sender="maya@example.com", recipient="alex@example.com")
    # When planned
    plan = plan_event(item, PipelineConfig(), RulesClassifier(), never_suppressed)
    # Then the new text decides: a meeting request, not an opt-out
    assert plan.annotations["intent"] == "Meeting Requested"
    assert plan.consent is None


def test_an_sms_body_is_classified_whole():
    # Given an SMS that merely looks like a quoted e-mail
    plan = plan_event(inbound("> unsubscribe"), PipelineConfig(), RulesClassifier(), never_suppressed)
    # Then nothing is stripped from it
    assert plan.annotations["intent"] == "Opt-out"
