"""The Drafter's two steps and its template fallback, with a scripted client in place of the network
(the wire formats and the worker's use are tested against the sandbox in tests/integration/test_drafts.py)."""

from __future__ import annotations

from fakes import ScriptedClient  # tests/: pytest puts it on sys.path

from switchboard.models.ai_usage import DEFAULT_PRICES
from switchboard.models.drafts import ConversationLine, draft_send_key
from switchboard.providers.llm import LlmAnswer, LlmError, LlmTimeout
from switchboard.services.drafts.compose import DEFAULT_DRAFT, Drafter
from switchboard.services.processing.model_calls import ModelCaller

STRATEGY = {"goal": "book_meeting", "tone": "warm", "key_points": "Offer Tuesday.", "propose_times": True}


def drafter(*outcomes: LlmAnswer | LlmError) -> tuple[Drafter, ScriptedClient]:
    client = ScriptedClient(list(outcomes))
    return Drafter(ModelCaller(client, DEFAULT_PRICES)), client


def test_the_strategy_reads_the_history_and_status_then_the_text_follows_it():
    # Given a model that plans, then writes
    subject, client = drafter(
        LlmAnswer("{}", STRATEGY, 100, 20, 5), LlmAnswer(" Tuesday at 10? ", None, 80, 9, 5)
    )
    history = (ConversationLine(False, "Can we help with dispatch?", "2026-11-24T08:00:00Z"),)
    # When a draft is made
    result = subject.draft("Yes, let's talk", "meeting_requested", history)
    # Then the strategy step saw the history and status under its schema, the text step the strategy
    strategy, text = client.requests
    assert strategy.schema is not None and "Us: Can we help with dispatch?" in strategy.prompt
    assert "meeting_requested" in strategy.prompt and "Offer Tuesday." in text.prompt
    assert (result.text, result.variant, result.fallback) == ("Tuesday at 10?", "llm", None)
    assert [call.feature for call in result.calls] == ["draft.strategy", "draft.generate"]


def test_no_strategy_means_the_template_and_no_second_call():
    subject, client = drafter(LlmTimeout("slow"))
    result = subject.draft("Yes, let's talk", "interested")
    assert (result.text, result.variant, result.fallback) == (DEFAULT_DRAFT, "template", "strategy_timeout")
    assert len(client.requests) == 1 and [call.outcome for call in result.calls] == ["timeout"]


def test_an_empty_generation_falls_back_to_the_template_with_both_calls_recorded():
    subject, _ = drafter(LlmAnswer("{}", STRATEGY, 100, 20, 5), LlmAnswer("   ", None, 80, 0, 5))
    result = subject.draft("Yes, let's talk", "interested")
    assert (result.variant, result.fallback, len(result.calls)) == ("template", "generate_empty", 2)


def test_an_empty_reply_costs_no_call():
    subject, client = drafter()
    assert subject.draft("  ", "interested").fallback == "empty_reply" and client.requests == []


def test_without_a_model_the_template_drafts_and_no_history_is_needed():
    subject = Drafter()
    assert subject.needs_history is False
    assert (subject.draft("Yes", "interested").variant, subject.draft("Yes", "interested").fallback) == (
        "template",
        None,
    )


def test_the_send_key_is_the_draft_ids_hash_and_stable():
    key = draft_send_key("EVT#instantly#0195f3a2")
    assert key == draft_send_key("EVT#instantly#0195f3a2") != draft_send_key("EVT#instantly#other")
    assert key.startswith("draft#") and len(key) == len("draft#") + 32 and "0195f3a2" not in key


def test_an_email_draft_reads_the_replys_new_text_never_the_quoted_thread():
    from switchboard.services.processing.classify import RulesClassifier
    from switchboard.services.processing.pipeline import PipelineConfig, plan_event

    # Given an e-mail reply quoting our earlier message, and a model that plans and writes
    subject, client = drafter(
        LlmAnswer("{}", STRATEGY, 100, 20, 5), LlmAnswer("Tuesday works.", None, 80, 9, 5)
    )
    email = {
        "pk": "EVT#instantly#e1",
        "kind": "message",
        "provider": "instantly",
        "direction": "inbound",
        "channel": "email",
        "sender": "maya@example.com",
        "recipient": "alex@example.io",
        "body": "Yes, let's talk Tuesday\n\nOn Mon, Nov 24, 2026 at 9:00 AM Alex <alex@example.io> wrote:\n"
        "> Would a short call about dispatch texts help?",
        "occurred_at": "2026-11-25T08:00:00Z",
    }
    # When its job is planned
    plan = plan_event(email, PipelineConfig(), RulesClassifier(), lambda c, a: False, drafter=subject)
    # Then both model steps saw the new text, and none saw the quoted thread
    assert plan.draft is not None and plan.draft.variant == "llm"
    assert all("Yes, let's talk Tuesday" in request.prompt for request in client.requests)
    assert not any("dispatch texts" in request.prompt for request in client.requests)
