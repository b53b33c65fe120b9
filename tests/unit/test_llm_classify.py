"""LlmClassifier's own decisions, with a scripted client in place of the network (the wire formats are
tested against the sandbox in tests/integration/test_llm_sandbox.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.models.ai_usage import DEFAULT_PRICES
from switchboard.models.classification import Intent
from switchboard.providers.llm import LlmAnswer, LlmError, LlmMalformed, LlmRequest
from switchboard.services.processing.llm_classify import LlmClassifier
from switchboard.services.processing.model_calls import ModelCaller


@dataclass
class ScriptedClient:
    outcome: LlmAnswer | LlmError
    provider: str = "bedrock"
    model: str = "us.amazon.nova-micro-v1:0"
    requests: list[LlmRequest] = field(default_factory=list)

    def complete(self, request: LlmRequest) -> LlmAnswer:
        self.requests.append(request)
        if isinstance(self.outcome, LlmError):
            raise self.outcome
        return self.outcome


def classifier(outcome: LlmAnswer | LlmError) -> tuple[LlmClassifier, ScriptedClient]:
    client = ScriptedClient(outcome)
    return LlmClassifier(ModelCaller(client, DEFAULT_PRICES)), client


def test_the_models_intent_is_used_and_its_call_costed_at_the_profiles_model_price():
    # Given a model answering "Interested" for 1M input and 1M output tokens
    answer = LlmAnswer("{}", {"intent": "Interested", "confidence": 0.8}, 1_000_000, 1_000_000, 90)
    subject, client = classifier(answer)
    # When a reply is classified
    result = subject.classify("Tell me more")
    # Then the intent is the model's, and the call is priced as amazon.nova-micro-v1:0 (0.035 + 0.14)
    assert (result.intent, result.classifier, result.fallback) == (Intent.INTERESTED, "llm", None)
    [call] = result.calls
    assert (call.feature, call.outcome, call.priced) == ("sentiment.classify", "ok", True)
    assert round(call.cost_usd, 6) == 0.175
    assert client.requests[0].schema is not None


def test_a_failed_call_falls_back_to_the_rules_and_says_why():
    subject, _ = classifier(LlmMalformed("not JSON", input_tokens=30, output_tokens=5))

    result = subject.classify("Not interested, thanks")

    assert (result.intent, result.classifier, result.fallback) == (
        Intent.NOT_INTERESTED,
        "rules",
        "malformed",
    )
    assert (result.calls[0].outcome, result.calls[0].input_tokens) == ("malformed", 30)


def test_an_empty_reply_costs_no_call():
    subject, client = classifier(LlmError("must not be called"))

    result = subject.classify("   ")

    assert result.intent is Intent.NEUTRAL and result.calls == () and client.requests == []
