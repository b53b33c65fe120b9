"""LLM-written reminder text (the llm arm) with a scripted model in place of the network: used only when
it keeps the start exactly, the template otherwise, every call recorded as feature reminder.text."""

from __future__ import annotations

from datetime import UTC, datetime

from fakes import ScriptedClient  # tests/: pytest puts it on sys.path
from test_reminder_variants import EVENT, IDS, RECIPIENT  # same directory

from switchboard.models.ai_usage import DEFAULT_PRICES
from switchboard.providers.llm import LlmAnswer, LlmError, LlmTimeout
from switchboard.services.processing.model_calls import ModelCaller
from switchboard.services.reminders.llm_text import LlmReminderWriter
from switchboard.services.reminders.planning import PlanningInput, plan_reminder
from switchboard.services.reminders.text import REMINDER, TemplateWriter, TextRequest, when_text
from switchboard.services.reminders.variants import assign

REQUEST = TextRequest(
    purpose=REMINDER,
    title="Physio",
    start=datetime(2026, 12, 1, 20, 0, tzinfo=UTC),
    all_day=None,
    location=None,
    zone="America/Los_Angeles",
    twelve_hour=True,
)
WHEN = when_text(REQUEST)  # "on Tue 1 Dec at 12:00 PM PST"


def writer(*outcomes: LlmAnswer | LlmError) -> tuple[LlmReminderWriter, ScriptedClient]:
    client = ScriptedClient(list(outcomes))
    return LlmReminderWriter(ModelCaller(client, DEFAULT_PRICES)), client


def test_a_text_that_keeps_the_start_is_used_with_the_opt_out_line():
    subject, client = writer(LlmAnswer(f"See you for Physio {WHEN}!", None, 50, 12, 5))
    written = subject.write(REQUEST)
    assert written.text == f"See you for Physio {WHEN}! Reply STOP to opt out."
    assert (written.source, written.fallback) == ("llm", None)
    assert [call.feature for call in written.calls] == ["reminder.text"]
    assert client.requests[0].prompt == TemplateWriter().write(REQUEST)  # the facts come from the template


def test_a_text_that_changes_the_start_falls_back_to_the_template():
    subject, _ = writer(LlmAnswer("See you for Physio on Tue 1 Dec at 1:00 PM PST!", None, 50, 12, 5))
    written = subject.write(REQUEST)
    assert (written.text, written.source, written.fallback) == (
        TemplateWriter().write(REQUEST),
        "template",
        "changed_facts",
    )


def test_a_failed_call_falls_back_to_the_template_and_is_recorded():
    subject, _ = writer(LlmTimeout("slow"))
    written = subject.write(REQUEST)
    assert (written.source, written.fallback) == ("template", "timeout")
    assert [call.outcome for call in written.calls] == ["timeout"]


def plan_for(digest: str, subject: LlmReminderWriter):
    return plan_reminder(
        PlanningInput(
            event=EVENT,
            stored=None,
            recipient=RECIPIENT,
            recipient_digest=digest,
            suppressed=False,
            now=datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
            writer=TemplateWriter(),
            variants=True,
            llm_writer=subject,
        )
    )


def test_the_llm_arm_gets_the_models_text_and_records_it():
    subject, _ = writer(LlmAnswer(f"Physio {WHEN}. Reply STOP to opt out.", None, 50, 12, 5))
    digest = next(r for r in IDS if assign(r).text == "llm")
    plan = plan_for(digest, subject)
    assert plan is not None and plan.text == f"Physio {WHEN}. Reply STOP to opt out."
    assert plan.variant is not None and plan.variant["text"] == "llm"
    assert [call.feature for call in plan.ai_calls] == ["reminder.text"]


def test_the_template_arm_never_calls_the_model():
    subject, client = writer()
    digest = next(r for r in IDS if assign(r).text == "template")
    plan = plan_for(digest, subject)
    assert plan is not None and plan.variant is not None and plan.variant["text"] == "template"
    assert client.requests == [] and plan.ai_calls == ()
