"""The typed reconciliation run: its mapping to the DynamoDB run record under the field names the earlier
untyped run wrote (so those records still load), and from a record to the run's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.models.reconcile import ProviderStats, ReconcileRun, RunStatus, run_summary

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SK = "RUN#2026-12-02T12:00:00.000000Z"
# A checkpointed run record as the untyped reconciler stored it, from before the capture-rate counters
# (inbound_listed, inbound_missing) existed; read back from DynamoDB with its pk.
UNTYPED_CHECKPOINTED: dict[str, Any] = {
    "pk": "RECONCILE",
    "sk": SK,
    "status": "checkpointed",
    "started": "2026-12-02T12:00:00.000000Z",
    "window_start": "2026-11-30T12:00:00.000000Z",
    "window_end": "2026-12-02T12:00:00.000000Z",
    "window_hours": 48,
    "providers": ["twilio", "openphone"],
    "stats": {
        "twilio": {
            "pages": 3,
            "messages_processed": 300,
            "new_messages": 2,
            "existing_messages": 298,
            "requeued": 1,
            "statuses_backfilled": 0,
            "errors": 0,
            "retries": 1,
            "throttled": 1,
        },
        "openphone": {},
    },
    "position": 0,
    "cursor": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?Page=3",
    "elapsed_seconds": 12.5,
    "segments": 1,
    "done": 0.3,
    "swept": True,
    "requeued": 1,
    "checkpoint": {
        "run": SK,
        "provider": "twilio",
        "cursor": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?Page=3",
        "lock": "4f1c",
    },
}


def test_a_record_the_untyped_run_stored_loads_with_every_field_typed():
    # When a record written by the untyped reconciler is read
    run = ReconcileRun.from_record(UNTYPED_CHECKPOINTED)

    # Then its fields are typed, and counters it did not know yet start at 0
    assert run.status == RunStatus.CHECKPOINTED and run.checkpoint is not None
    assert run.checkpoint.lock == "4f1c" and run.checkpoint.cursor == UNTYPED_CHECKPOINTED["cursor"]
    assert run.stats["twilio"].new_messages == 2 and run.stats["twilio"].inbound_listed == 0
    assert run.stats["openphone"] == ProviderStats()
    assert run.window == (NOW - timedelta(hours=48), NOW)


def test_a_loaded_record_is_written_back_under_the_same_field_names():
    # Given a record written by the untyped reconciler
    record = {key: value for key, value in UNTYPED_CHECKPOINTED.items() if key != "pk"}

    # When it is loaded and mapped back to a record
    written = ReconcileRun.from_record(UNTYPED_CHECKPOINTED).to_record()

    # Then the only difference is the counters added since, at 0
    new_counters = {"inbound_listed": 0, "inbound_missing": 0}
    assert written["stats"]["twilio"] == {**record["stats"]["twilio"], **new_counters}
    assert {key: value for key, value in written.items() if key != "stats"} == {
        key: value for key, value in record.items() if key != "stats"
    }


def test_a_new_run_record_holds_what_the_untyped_run_wrote_at_its_start():
    # When a run starts
    record = ReconcileRun.start(["twilio"], NOW, timedelta(hours=48)).to_record()

    # Then its record has the untyped run's fields at its start, and none of the ones set later
    assert record == {
        "sk": SK,
        "status": "running",
        "started": "2026-12-02T12:00:00.000000Z",
        "window_start": "2026-11-30T12:00:00.000000Z",
        "window_end": "2026-12-02T12:00:00.000000Z",
        "window_hours": 48.0,
        "providers": ["twilio"],
        "stats": {"twilio": ProviderStats().model_dump()},
        "position": 0,
        "cursor": None,
        "elapsed_seconds": 0.0,
        "segments": 0,
        "done": 0.0,
    }


def test_the_answer_names_the_run_and_its_duration_from_any_record():
    # When the answer of a record is made (the CLI does it for records it did not write)
    summary = run_summary(UNTYPED_CHECKPOINTED)

    # Then the record's sk is the run, its elapsed time the duration; its cursor and lock stay inside
    assert summary["run"] == SK and summary["duration_seconds"] == 12.5 and "sk" not in summary
    assert summary["requeued"] == 1 and summary["segments"] == 1
    assert "checkpoint" not in summary and "cursor" not in summary
    assert ReconcileRun.from_record(UNTYPED_CHECKPOINTED).summary()["stats"]["twilio"]["pages"] == 3
