"""A calendar webhook through IngestFunction and WorkerFunction: its job plans the reminder."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.dal.reminders import ReminderRecords
from switchboard.services import worker as worker_module
from switchboard.services.ingest import default_service
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")
EVENTS_NOW = 1795593600  # the samples' signing time, 2026-11-25T08:00:00Z
BOOKING_ID = "9f3c2a7e-4b1d-4e8a-a6c5-2d7f0b9e1c34"


@pytest.fixture(autouse=True)
def fresh_worker(stack):
    worker_module.default_worker().clock = lambda: EVENTS_NOW
    default_service().clock = lambda: EVENTS_NOW


def deliver_and_process(name: str, sqs: Any, stack: Any, lambda_context: Any) -> dict[str, Any]:
    assert ingest.handler(load_event(f"ingest/{name}"), lambda_context)["statusCode"] == 200
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)
    response = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delete_succeeded(sqs, url, messages, response)
    return response


def test_a_calcom_booking_gets_a_scheduled_reminder_and_its_cancellation_cancels_it(
    stack, sqs, lambda_context
):
    # When the booking is ingested and its job processed
    assert (
        deliver_and_process("calcom_booking_created", sqs, stack, lambda_context)["batchItemFailures"] == []
    )
    records = ReminderRecords(stack.tables["EventsTable"])
    scheduled = records.get("calcom", BOOKING_ID)

    # Then its reminder is scheduled 15 minutes before 15:00Z
    assert scheduled is not None and scheduled["state"] == "scheduled"
    assert scheduled["due_at"] == (1_796_137_200 - 15 * 60) * 1000  # 2026-12-01T14:45:00Z

    # When the cancellation follows, then the reminder is cancelled with the reason
    assert (
        deliver_and_process("calcom_booking_cancelled", sqs, stack, lambda_context)["batchItemFailures"] == []
    )
    cancelled = records.get("calcom", BOOKING_ID)
    assert cancelled is not None and (cancelled["state"], cancelled["reason"]) == (
        "cancelled",
        "event_cancelled",
    )


def test_the_workers_reminders_honour_the_rollout_flags_pause(stack, sqs, lambda_context, monkeypatch):
    # Given the worker reads the stack's rollout parameter, and the kill switch is on
    from switchboard.container import forget_per_container
    from switchboard.dal.rollout_flag import RolloutFlagStore
    from switchboard.models.rollout import RolloutFlag

    parameter = stack.parameters["RemindersRolloutParameter"]
    RolloutFlagStore(parameter).write(RolloutFlag(paused=True))
    monkeypatch.setenv("REMINDERS_ROLLOUT_PARAMETER", parameter)
    forget_per_container()  # a cold container: the worker is built again from this environment
    worker_module.default_worker().clock = lambda: EVENTS_NOW
    default_service().clock = lambda: EVENTS_NOW
    # When a booking is processed
    assert (
        deliver_and_process("calcom_booking_created", sqs, stack, lambda_context)["batchItemFailures"] == []
    )
    # Then its reminder is cancelled with reason paused, never scheduled
    found = ReminderRecords(stack.tables["EventsTable"]).get("calcom", BOOKING_ID)
    assert found is not None and (found["state"], found["reason"]) == ("cancelled", "paused")
    assert "due_shard" not in found


def test_with_variants_on_the_reminder_records_its_arms_and_uses_the_assigned_lead(
    stack, sqs, lambda_context, monkeypatch
):
    # Given a worker built with REMINDER_VARIANTS=on
    from switchboard.container import forget_per_container
    from switchboard.services.reminders.variants import assign

    monkeypatch.setenv("REMINDER_VARIANTS", "on")
    forget_per_container()
    worker_module.default_worker().clock = lambda: EVENTS_NOW
    default_service().clock = lambda: EVENTS_NOW
    # When a booking is processed
    assert (
        deliver_and_process("calcom_booking_created", sqs, stack, lambda_context)["batchItemFailures"] == []
    )
    # Then the reminder stores the recipient's arms and is due its assigned lead before 15:00Z
    found = ReminderRecords(stack.tables["EventsTable"]).get("calcom", BOOKING_ID)
    assert found is not None and found["state"] == "scheduled"
    arms = assign(found["recipient"])
    assert found["variant"] == {"text": "template", "assigned_text": arms.text, "lead": arms.lead}
    assert found["due_at"] == (1_796_137_200 - arms.lead * 60) * 1000


def test_the_llm_arms_reminder_text_is_a_model_call_recorded_with_the_job(
    stack, sqs, lambda_context, monkeypatch
):
    # Given a worker with variants on and an LLM (the sandbox's chat completions over loopback)
    from switchboard.container import forget_per_container
    from switchboard.dal.ai_usage import AiUsageRecords, day_of
    from switchboard_ops.sandbox import Sandbox

    with Sandbox("http://127.0.0.1:9") as box:
        for name, value in {
            "REMINDER_VARIANTS": "on",
            "LLM_PROVIDER": "openai",
            "LLM_MODEL": "gpt-4o-mini",
            "LLM_BASE_URL": f"{box.url}/v1",
            "LLM_TIMEOUT_SECONDS": "1",
        }.items():
            monkeypatch.setenv(name, value)
        forget_per_container()
        worker_module.default_worker().clock = lambda: EVENTS_NOW
        default_service().clock = lambda: EVENTS_NOW
        # When a booking of a recipient in the llm arm is processed
        response = deliver_and_process("calcom_booking_created", sqs, stack, lambda_context)
    assert response["batchItemFailures"] == []
    found = ReminderRecords(stack.tables["EventsTable"]).get("calcom", BOOKING_ID)
    assert found is not None and found["variant"]["assigned_text"] == "llm"
    # Then the text came from the model or, if it changed the facts, the template with the reason
    assert found["variant"]["text"] == "llm" or found["variant"]["fallback"] == "changed_facts"
    # And the call is a usage record of feature reminder.text for the calendar job
    calls = AiUsageRecords(stack.tables["EventsTable"]).calls_on(day_of(EVENTS_NOW))  # the job's clock
    [call] = [c for c in calls if c["feature"] == "reminder.text"]
    assert call["outcome"] == "ok" and call["job_pk"] == found["pk"]
