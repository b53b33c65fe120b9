"""Stand-ins for what cannot run here: a scripted LLM client (a real model needs the internet)."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.providers.llm import LlmAnswer, LlmError, LlmRequest


@dataclass
class ScriptedClient:
    """An LLM client that answers each request with the next scripted outcome (an answer or an error)."""

    outcomes: list[LlmAnswer | LlmError]
    provider: str = "openai"
    model: str = "gpt-4o-mini"
    requests: list[LlmRequest] = field(default_factory=list)

    def complete(self, request: LlmRequest) -> LlmAnswer:
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, LlmError):
            raise outcome
        return outcome
