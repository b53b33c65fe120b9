"""The polling worker in `switchboard local up --time-scale 60`: webhooks processed, the retry ladder,
dead-lettering, redrive and opt-outs, observed through the `switchboard` CLI.

The messages that exercise the retry ladder are all posted first (one fixture), so their backoffs
(1 + 2 + 4 + 8 + 16 s at time scale 60) run side by side and the module takes about one ladder's time.
"""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.dal.contacts import AddressKeyedTable
from switchboard_ops.local.samples import load_sample, with_changes

pytestmark = pytest.mark.e2e

PROCESSED_WITHIN = 15  # one attempt: the poller's long poll and batching window, a second or two
FAIL3_WITHIN = 45  # backoffs 1 + 2 + 4 s, a batching window per attempt, and slack
EXHAUSTED_WITHIN = 90  # backoffs 1 + 2 + 4 + 8 + 16 s = 31 s, six batching windows, and slack


def post(stack: Any, name: str, **changes: Any) -> tuple[str, str]:
    """Post a sample under a fresh message id (and changed text); (provider, provider message id)."""
    response = stack.post(with_changes(load_sample(name), new_id=True, **changes))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["outcome"] == "stored" and result["enqueued"] is True, result
    key = (result["provider"], result["provider_message_id"])
    stack.jobs[key] = "#fail" in str(changes.get("body", ""))  # other tests expect only the rest PROCESSED
    return key


@pytest.fixture(scope="module")
def faulty(live_stack) -> dict[str, tuple[str, str]]:
    """The retry-ladder messages, posted together at once: fail3, fail (always) and fail6."""
    return {
        "fail3": post(live_stack, "twilio_inbound_sms", body="Sounds good, see you then #fail3"),
        "fail": post(live_stack, "twilio_inbound_sms", body="This one never works #fail"),
        "fail6": post(live_stack, "twilio_inbound_sms", body="Yes, Tuesday works #fail6"),
    }


def processed(found: dict[str, Any]) -> bool:
    return found["job_state"] == "PROCESSED"


def exhausted(found: dict[str, Any]) -> bool:
    return found["job_state"] == "FAILED" and found["exhausted"] is True


def dead_letter_of(stack: Any, message_id: str) -> dict[str, Any] | None:
    listing = stack.cli_json("dlq", "list")
    return next((m for m in listing["messages"] if m["provider_message_id"] == message_id), None)


def test_a_webhook_is_processed_by_the_polling_worker(live_stack, faulty):
    # Given an inbound SMS accepted by the local API
    provider, message_id = post(live_stack, "twilio_inbound_sms")

    # When the worker's event-source mapping polls ProcessingQueue
    found = live_stack.wait_for_message(
        provider, message_id, processed, timeout=PROCESSED_WITHIN, what="PROCESSED"
    )

    # Then `switchboard messages get` shows it processed once, classified, with a draft reply pending review
    assert found["attempts"] == 1
    assert (found["intent"], found["sentiment"]) == ("Meeting Requested", "positive")
    assert found["draft_status"] == "pending_review" and found["draft"]["sk"] == "DRAFT"
    assert found["last_error"] is None and found["exhausted"] is None


def test_a_message_failing_three_times_is_retried_with_backoff_and_processed_on_the_fourth(
    live_stack, faulty
):
    # Given a message whose first three attempts fail ("#fail3", the local stack's fault injection)
    provider, message_id = faulty["fail3"]

    # When the backoffs (1, 2, 4 s at time scale 60) pass
    found = live_stack.wait_for_message(
        provider, message_id, processed, timeout=FAIL3_WITHIN, what="PROCESSED"
    )

    # Then the fourth attempt processed it, and the earlier error is gone
    assert found["attempts"] == 4
    assert found["last_error"] is None and not found["exhausted"]
    assert found["intent"] is not None


def test_a_message_that_always_fails_is_dead_lettered_after_six_attempts(live_stack, faulty):
    # Given a message every attempt of which fails ("#fail")
    provider, message_id = faulty["fail"]

    # When its whole retry ladder has run
    found = live_stack.wait_for_message(
        provider, message_id, exhausted, timeout=EXHAUSTED_WITHIN, what="exhausted"
    )

    # Then the record says FAILED/exhausted after 6 attempts, with the error
    assert found["attempts"] == 6
    assert "injected failure on attempt 6" in found["last_error"]

    # And `switchboard dlq list --json` shows the job, exhausted after 6 attempts
    letter = dead_letter_of(live_stack, message_id)
    assert letter is not None, f"{message_id} is not in the DLQ"
    assert (letter["reason"], letter["attempts"], letter["provider"], letter["job_type"]) == (
        "exhausted",
        6,
        "twilio",
        "message",
    )
    assert "InjectedFailure" in letter["error"] and letter["pk"] == found["pk"]
    assert letter["age_seconds"] is not None and letter["age_seconds"] >= 0

    # And people see it too: the DLQ table, and `status` flags the waiting dead letters
    table = live_stack.cli("dlq", "list")
    assert table.returncode == 0, table.stderr
    assert letter["message_id"] in table.stdout and "exhausted" in table.stdout
    status = live_stack.cli_json("status")
    assert status["queues"]["ProcessingDeadLetterQueue"]["visible"] >= 1
    assert "dlq list" in live_stack.cli("status").stdout


def test_a_dead_lettered_job_redriven_by_id_is_processed_and_counted_recovered(live_stack, faulty):
    # Given a message that fails its first six attempts ("#fail6"): exhausted into the DLQ
    provider, message_id = faulty["fail6"]
    live_stack.wait_for_message(provider, message_id, exhausted, timeout=EXHAUSTED_WITHIN, what="exhausted")
    letter = dead_letter_of(live_stack, message_id)
    assert letter is not None, f"{message_id} is not in the DLQ"

    # When an operator redrives that one message
    moved = live_stack.cli_json("dlq", "redrive", "--id", letter["message_id"])

    # Then it went back to ProcessingQueue, attempt 7 processed it, and the record is recovered
    assert (moved["from"], moved["to"], moved["moved"]) == (
        "ProcessingDeadLetterQueue",
        "ProcessingQueue",
        [letter["message_id"]],
    )
    found = live_stack.wait_for_message(
        provider, message_id, processed, timeout=PROCESSED_WITHIN, what="PROCESSED after the redrive"
    )
    assert (found["attempts"], found["recovered"], found["exhausted"]) == (7, True, False)
    assert dead_letter_of(live_stack, message_id) is None

    # And `switchboard jobs stats --json` counts it recovered
    stats = live_stack.cli_json("jobs", "stats")
    assert stats["recovered"] >= 1 and stats["by_provider"]["twilio"]["recovered"] >= 1
    assert stats["exhausted"] >= 1  # the "#fail" message is still dead-lettered
    assert stats["total"] == sum(
        stats[state] for state in ("pending", "processing", "processed", "exhausted")
    )
    people = live_stack.cli("jobs", "stats")
    assert people.returncode == 0 and "RECOVERED" in people.stdout and "twilio" in people.stdout


def test_redrive_needs_ids_or_all_and_reports_unknown_ids(live_stack):
    nothing = live_stack.cli("dlq", "redrive")
    assert nothing.returncode == 2 and "--id" in nothing.stderr

    unknown = live_stack.cli("dlq", "redrive", "--id", "no-such-message")
    assert unknown.returncode == 1
    assert "no-such-message" in unknown.stderr


def test_stop_suppresses_the_number(live_stack):
    # Given an inbound STOP from a number
    provider, message_id = post(live_stack, "twilio_inbound_stop")

    # When the worker processes it
    found = live_stack.wait_for_message(
        provider, message_id, processed, timeout=PROCESSED_WITHIN, what="PROCESSED"
    )

    # Then it is an opt-out and the sender's number is on the suppression list
    assert found["consent"] == "opt_out"
    assert found["suppressed"] is True
    sender = found["message"]["sender"]
    assert found["suppression"]["pk"] == AddressKeyedTable("-").suppression_key("sms", sender)["pk"]
    assert found["suppression"]["last_keyword"] == "opt_out"
