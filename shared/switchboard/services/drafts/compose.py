"""A draft's text: the model's two steps (strategy, then generation) or the template, saying which
(`variant`) and, for the template, why (`fallback`: the failed step and its call's outcome)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.models.ai_usage import AiCall
from switchboard.models.drafts import ConversationLine
from switchboard.services.drafts.generate import generate_reply
from switchboard.services.drafts.strategy import plan_strategy
from switchboard.services.processing.model_calls import ModelCaller

DEFAULT_DRAFT = "Thanks for getting back to us! We'll follow up shortly to find a time that suits you."


@dataclass(frozen=True)
class DraftText:
    text: str
    variant: str  # "llm" | "template"
    fallback: str | None = None  # e.g. "strategy_timeout", "generate_malformed", "empty_reply"
    calls: tuple[AiCall, ...] = ()


class Drafter:
    """`caller` None: the template only (no model configured), with no history needed."""

    def __init__(self, caller: ModelCaller | None = None, template: str = DEFAULT_DRAFT) -> None:
        self.caller = caller
        self.template = template

    @property
    def needs_history(self) -> bool:
        return self.caller is not None

    def draft(self, reply: str, status: str, history: Sequence[ConversationLine] = ()) -> DraftText:
        if self.caller is None:
            return DraftText(self.template, "template")
        if not reply.strip():
            return DraftText(self.template, "template", "empty_reply")  # nothing to answer: no call, no cost
        strategy, planned = plan_strategy(self.caller, reply, status, history)
        if strategy is None:
            # No strategy, no generation: the second call would only add cost to a template answer.
            return DraftText(self.template, "template", f"strategy_{planned.call.outcome}", (planned.call,))
        text, generated = generate_reply(self.caller, strategy, reply)
        calls = (planned.call, generated.call)
        if text is None:
            outcome = generated.call.outcome if generated.error else "empty"
            return DraftText(self.template, "template", f"generate_{outcome}", calls)
        return DraftText(text, "llm", None, calls)
