"""bench/worker's own pieces work: the Powertools-idempotency baseline worker, the AWS call counter around
a worker, the job mix, and our worker under moto's per-item rollback (switchboard_ops.local.moto_patches,
tested in test_moto_patches.py). Functional checks only — no timings are asserted anywhere."""

from __future__ import annotations

import sys
from typing import Any

import boto3
import pytest

from switchboard.dal.contacts import AddressKeyedTable
from switchboard_ops.local.moto_patches import per_item_rollback
from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.ingest.common import CallCounter  # noqa: E402
from bench.worker import common, mix  # noqa: E402

CONTACT = "+14155551234"


@pytest.fixture
def workers(stack, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Ours on the `stack` fixture's resources; the baseline on its own copy plus an idempotency table."""
    baseline = common.provision_baseline_worker(boto3.Session(region_name="us-east-1"), prefix="test-bw")
    for key, value in baseline.environment().items():
        monkeypatch.setenv(key, value)
    yield common.load_workers(stack, baseline)


@pytest.fixture
def context() -> common.WorkerContext:
    return common.WorkerContext()


CONTACT_PK = AddressKeyedTable("-").contact_key(CONTACT)["pk"]
SUPPRESSION_PK = AddressKeyedTable("-").suppression_key("sms", CONTACT)["pk"]


def item(dynamodb: Any, table: str, pk: str, sk: str) -> dict[str, Any]:
    from switchboard.dal.items import from_item

    found = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True)
    return from_item(found.get("Item", {}))


def reply(body: str, at: float = mix.START_AT) -> mix.SeedEvent:
    return mix.SeedEvent("reply", mix.inbound(CONTACT, body, at), at)


def test_the_baseline_processes_a_job_and_marks_the_record_processed(workers, dynamodb, sqs, context):
    [key] = common.seed(workers.baseline, [reply("Sounds great, what's the pricing?")], dynamodb, sqs)

    done = common.poll(workers.baseline, sqs, context)

    assert done.jobs == 1
    table = workers.baseline.table
    record = item(dynamodb, table, key["pk"], key["sk"])
    assert (record["job_state"], record["intent"], record["sentiment"], record["draft"]) == (
        "PROCESSED",
        "Interested",
        "positive",
        "pending_review",
    )
    contact = item(dynamodb, table, CONTACT_PK, "PROFILE")
    assert (contact["message_count"], contact["status"], contact["followups_paused"]) == (
        1,
        "interested",
        True,
    )
    assert item(dynamodb, table, key["pk"], "DRAFT")["status"] == "pending_review"
    idempotency = dynamodb.scan(TableName=workers.idempotency_table)["Items"]
    assert [entry["status"]["S"] for entry in idempotency] == ["COMPLETED"]
    assert common.poll(workers.baseline, sqs, context).jobs == 0  # the message was deleted


def test_a_redelivered_job_is_not_reprocessed_by_the_baseline(workers, dynamodb, sqs, context):
    seeded = [reply("Can we schedule a quick call tomorrow?")]
    [key] = common.seed(workers.baseline, seeded, dynamodb, sqs)
    common.poll(workers.baseline, sqs, context)
    before = item(dynamodb, workers.baseline.table, key["pk"], key["sk"])
    from switchboard.dal.jobs_queue import JobsQueue
    from switchboard.models import Job

    event = seeded[0].event
    JobsQueue(workers.baseline.queue_url, sqs).enqueue_job(
        Job(**key, provider="twilio", kind="message", provider_message_id=event.provider_message_id)
    )

    counter = CallCounter()
    done = common.poll(workers.baseline, sqs, context, around_handler=counter)

    assert done.jobs == 1
    assert counter.calls == ["dynamodb.PutItem"]  # Powertools' conditional put finds it COMPLETED
    assert item(dynamodb, workers.baseline.table, key["pk"], key["sk"]) == before
    contact = item(dynamodb, workers.baseline.table, CONTACT_PK, "PROFILE")
    assert contact["message_count"] == 1


def test_the_call_counter_counts_what_each_worker_makes(workers, dynamodb, sqs, context):
    counters = {}
    for name, side in workers.sides().items():
        common.seed(side, [reply("Who is this?")], dynamodb, sqs)
        counters[name] = CallCounter()
        assert common.poll(side, sqs, context, around_handler=counters[name]).jobs == 1

    # Ours: the claim, then the completion and the roll-up in one transaction.
    # The contact key's HMAC key is read once per container (cached 300 s): the cold job's one extra call.
    assert counters["ours"].calls == [
        "dynamodb.UpdateItem",
        "secretsmanager.GetSecretValue",
        "dynamodb.TransactWriteItems",
    ]
    # Baseline: idempotency INPROGRESS, the record, the roll-up, the record PROCESSED, idempotency COMPLETED.
    assert counters["baseline"].calls == [
        "dynamodb.PutItem",
        "dynamodb.GetItem",
        "dynamodb.UpdateItem",
        "dynamodb.UpdateItem",
        "dynamodb.UpdateItem",
    ]
    assert counters["baseline"].by_operation() == {
        "dynamodb.GetItem": 1,
        "dynamodb.PutItem": 1,
        "dynamodb.UpdateItem": 3,
    }
    assert set(counters["ours"].milliseconds_by_operation()) == set(counters["ours"].by_operation())
    assert all(ms > 0 for ms in counters["baseline"].milliseconds_by_operation().values())


def test_a_stop_and_a_late_status_reach_the_same_end_state_in_both(workers, dynamodb, sqs, context):
    at = mix.START_AT
    seeds = [
        mix.SeedEvent("stop", mix.inbound(CONTACT, "STOP", at, "STOP"), at),
        mix.SeedEvent("status", mix.status_callback("SMout1", CONTACT, "delivered", at + 1), at + 1),
        mix.SeedEvent("status", mix.status_callback("SMout1", CONTACT, "sent", at + 2), at + 2),
    ]
    for side in workers.sides().values():
        common.seed(side, seeds, dynamodb, sqs)
        common.drain(side, sqs, context)

    ours, baseline = (common.end_state(dynamodb, side.table) for side in workers.sides().values())
    assert ours == baseline
    assert ours["suppressions"] == {
        SUPPRESSION_PK: {
            "suppressed": True,
            "last_keyword": "opt_out",
        }
    }
    assert ours["deliveries"] == {"EVT#twilio#SMout1": {"delivery_status": "delivered", "rank": 4}}


def test_our_worker_and_the_baseline_reach_the_same_end_state_for_the_mix(workers, dynamodb, sqs, context):
    seeds = mix.generate(80)
    for side in workers.sides().values():
        common.seed(side, seeds, dynamodb, sqs)
        polls = common.drain(side, sqs, context)
        assert sum(p.jobs for p in polls) == 80

    ours = common.end_state(dynamodb, workers.ours.table)
    assert ours == common.end_state(dynamodb, workers.baseline.table)
    records = ours["records"].values()
    assert len(records) == 80 and {r["job_state"] for r in records} == {"PROCESSED"}
    assert {r["sentiment"] for r in records if r["sentiment"]} == {"positive", "negative", "neutral"}
    assert sum(c["message_count"] for c in ours["contacts"].values()) == sum(
        1 for seed in seeds if seed.event.kind == "message"
    )
    assert max(c["message_count"] for c in ours["contacts"].values()) > 1  # roll-ups accumulate
    assert ours["drafts"] and ours["suppressions"] and ours["deliveries"]


def test_the_mix_is_deterministic_in_kinds_and_covers_replies_consent_and_statuses():
    first, second = mix.generate(200), mix.generate(200)

    assert [s.kind for s in first] == [s.kind for s in second]
    composition = mix.composition(first)
    assert sum(composition.values()) == 200
    assert all(composition[kind] > 0 for kind in ("positive", "negative", "neutral", "stop", "status"))
    late = [s for index, s in enumerate(first) if s.received_at < mix.START_AT + index]
    assert late and all(s.event.kind == "message" for s in late)  # replies arriving after newer ones


def test_under_the_shim_a_late_message_still_takes_ours_roll_up_fallback(workers, dynamodb, sqs, context):
    at = mix.START_AT
    seeds = [reply("ok", at), reply("Got it", at - 3600)]  # the second is older: counted, not "latest"
    with per_item_rollback():
        common.seed(workers.ours, seeds, dynamodb, sqs)
        counter = CallCounter()
        common.drain(workers.ours, sqs, context, around_handler=counter)

    assert counter.by_operation()["dynamodb.TransactWriteItems"] == 3  # the second job's commit, retried
    table = workers.ours.table
    newest = item(dynamodb, table, f"EVT#twilio#{seeds[0].event.provider_message_id}", "MESSAGE")
    late = item(dynamodb, table, f"EVT#twilio#{seeds[1].event.provider_message_id}", "MESSAGE")
    assert (newest["job_state"], late["job_state"]) == ("PROCESSED", "PROCESSED")
    contact = item(dynamodb, table, CONTACT_PK, "PROFILE")
    assert (contact["message_count"], contact["last_message_at"]) == (2, newest["occurred_at"])
