"""LLM-written reminder text for recipients in the `llm` arm (REMINDER_VARIANTS=on), through ModelCaller
(feature `reminder.text`: the AI usage telemetry and the LLM failure alarm cover it).

The template stays the fallback and the source of the facts: the model is asked to reword the
template's text, and its answer is used only if it keeps the start exactly as the template wrote it
(a model that moves an appointment by an hour is worse than no model) and fits one SMS segment
budget; the opt-out line is appended when the model dropped it.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.models.ai_usage import AiCall
from switchboard.providers.llm import LlmRequest
from switchboard.services.processing.model_calls import ModelCaller
from switchboard.services.reminders.text import TemplateWriter, TextRequest, TextWriter, when_text

FEATURE = "reminder.text"
MAX_CHARS = 320
OPT_OUT = "Reply STOP to opt out."
SYSTEM = (
    "You rewrite appointment reminder text messages to sound warm and human. Keep the date, time, "
    "time zone and place exactly as written. One or two short sentences. Answer with the text only."
)


@dataclass(frozen=True)
class WrittenText:
    text: str
    source: str  # "llm" or "template" (the fallback)
    fallback: str | None  # why the template was used: the call's outcome, "changed_facts", "too_long"
    calls: tuple[AiCall, ...]


class LlmReminderWriter:
    def __init__(self, caller: ModelCaller, template: TextWriter | None = None) -> None:
        self.caller = caller
        self.template = template or TemplateWriter()

    def write(self, request: TextRequest) -> WrittenText:
        template_text = self.template.write(request)
        result = self.caller.call(
            FEATURE, LlmRequest(system=SYSTEM, prompt=template_text, max_tokens=120, temperature=0.3)
        )
        calls = (result.call,)
        if result.answer is None:
            return WrittenText(template_text, "template", result.call.outcome, calls)
        text = " ".join(result.answer.text.split())
        if "STOP" not in text:
            text = f"{text} {OPT_OUT}"
        if when_text(request) not in text:
            return WrittenText(template_text, "template", "changed_facts", calls)
        if len(text) > MAX_CHARS:
            return WrittenText(template_text, "template", "too_long", calls)
        return WrittenText(text, "llm", None, calls)
