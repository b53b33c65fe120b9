"""The sparse UnfinishedJobs index against moto (the template's table): who enters it, who leaves it,
and the stuck-job sweep that queries it instead of scanning the table."""

from __future__ import annotations

import time
from typing import Any

from model_factories import message

from switchboard.dal.events_table import UNFINISHED_INDEX, UNFINISHED_SHARDS, EventsTable, unfinished_shard
from switchboard.dal.job_records import JobRecords
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event
from switchboard_ops.project import load_event, load_handler

ingest = load_handler("ingest")
worker = load_handler("worker")
SMS_PK = "EVT#twilio#SM7c1a2b3c4d5e6f708192a3b4c5d6e7f8"  # events/ingest/twilio_inbound_sms.json
HOUR = 3600.0


class Counting:
    """A boto3 client proxy recording every operation it is asked for, in order; `query_limit` makes
    each Query return pages of that many items so pagination is exercised."""

    def __init__(self, inner: Any, query_limit: int | None = None) -> None:
        self.inner = inner
        self.query_limit = query_limit
        self.operations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.operations.append(name)
            if name == "query" and self.query_limit:
                kwargs["Limit"] = self.query_limit
            return attribute(*args, **kwargs)

        return call


def indexed(dynamodb: Any, stack: Any) -> dict[str, dict[str, Any]]:
    """Everything in the index, by pk (a test may scan the index; the sweep never does)."""
    from switchboard.dal.items import from_item

    items = dynamodb.scan(TableName=stack.tables["EventsTable"], IndexName=UNFINISHED_INDEX)["Items"]
    return {str(item["pk"]): item for item in map(from_item, items)}


def stuck(stack: Any, dynamodb: Any, *, now: float) -> list[str]:
    records = ReconcileRecords(stack.tables["EventsTable"], dynamodb=dynamodb)
    return sorted(
        item["pk"] for item in records.stuck_jobs(received_before_ms=int((now - 60) * 1000), now=now)
    )


def store_old(stack: Any, provider_message_id: str, now: float, **kwargs: Any) -> dict[str, str]:
    return (
        EventsTable(stack.tables["EventsTable"])
        .store_if_new(message(provider_message_id=provider_message_id), received_at=now - HOUR, **kwargs)
        .key
    )


# --- who is in the index -------------------------------------------------------------------------------


def test_a_job_stored_by_ingest_is_in_the_index_under_its_shard(stack, dynamodb, lambda_context):
    # Given an inbound SMS webhook
    # When ingest stores it
    assert ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)["statusCode"] == 200

    # Then its record is indexed under its stable shard, with what the sweep reads and no body
    entry = indexed(dynamodb, stack)[SMS_PK]
    assert entry["unfinished"] == unfinished_shard(SMS_PK)
    assert (entry["job_state"], entry["provider"], entry["kind"]) == ("RECEIVED", "twilio", "message")
    assert entry["provider_message_id"] == SMS_PK.split("#", 2)[2] and "body" not in entry


def test_the_worker_processing_a_job_takes_it_out_of_the_index(stack, dynamodb, sqs, lambda_context):
    # Given an ingested message waiting in the processing queue
    ingest.handler(load_event("ingest/twilio_inbound_sms"), lambda_context)
    assert SMS_PK in indexed(dynamodb, stack)

    # When the worker polls the queue and processes it
    url = stack.queues["ProcessingQueue"]
    messages = receive_batch(sqs, url)
    response = worker.handler(sqs_event(messages, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delete_succeeded(sqs, url, messages, response)

    # Then the record is PROCESSED and gone from the index
    assert response["batchItemFailures"] == []
    stored = EventsTable(stack.tables["EventsTable"]).get(SMS_PK, "MESSAGE")
    assert stored is not None and stored["job_state"] == "PROCESSED" and "unfinished" not in stored
    assert indexed(dynamodb, stack) == {}


def test_a_canary_stored_without_a_job_is_never_in_the_index(stack, dynamodb):
    key = store_old(stack, "SMcanary", time.time(), job=False)

    stored = EventsTable(stack.tables["EventsTable"]).get(key["pk"], key["sk"])
    assert stored is not None and stored["job_state"] == "RECEIVED" and "unfinished" not in stored
    assert indexed(dynamodb, stack) == {}


def test_a_dead_lettered_job_leaves_the_index(stack, dynamodb):
    # Given two jobs that failed: one marked exhausted by the dead-letter path, one failing its last try
    now = time.time()
    records = JobRecords(stack.tables["EventsTable"])
    dead = store_old(stack, "SMdead", now)
    last = store_old(stack, "SMlast", now)

    # When each reaches its end
    records.mark_exhausted(dead, "PermanentJobError: bad", now=now)
    claimed = records.claim(last, now, 60)
    records.record_failure(claimed, "RuntimeError: boom", now=now, exhausted=True)

    # Then neither is indexed any more
    assert indexed(dynamodb, stack) == {}


def test_a_failed_job_still_retrying_stays_indexed_but_is_not_stuck(stack, dynamodb):
    # Given a job whose first attempt failed (its SQS message is retrying it)
    now = time.time()
    records = JobRecords(stack.tables["EventsTable"])
    key = store_old(stack, "SMretry", now)
    records.record_failure(records.claim(key, now - 600, 60), "RuntimeError: boom", now=now, exhausted=False)

    # Then it stays in the index, FAILED, and the sweep leaves it to its message
    assert indexed(dynamodb, stack)[key["pk"]]["job_state"] == "FAILED"
    assert stuck(stack, dynamodb, now=now) == []


def test_a_redriven_exhausted_job_re_enters_the_index_when_it_fails_again(stack, dynamodb):
    # Given a dead-lettered job, redriven: claimed again, and failing with retries left
    now = time.time()
    records = JobRecords(stack.tables["EventsTable"])
    key = store_old(stack, "SMredriven", now)
    records.mark_exhausted(key, "RuntimeError: boom", now=now)
    assert indexed(dynamodb, stack) == {}

    records.record_failure(records.claim(key, now, 60), "RuntimeError: again", now=now, exhausted=False)

    # Then it is back in the index (not exhausted any more), under the same shard
    assert indexed(dynamodb, stack)[key["pk"]]["unfinished"] == unfinished_shard(key["pk"])


# --- the sweep ---------------------------------------------------------------------------------------------


def test_stuck_jobs_queries_every_shard_and_never_scans(stack, dynamodb):
    # Given stuck jobs spread over every shard
    now = time.time()
    ids = [f"SMstuck{index}" for index in range(12)]
    keys = [store_old(stack, sid, now) for sid in ids]
    assert {unfinished_shard(key["pk"]) for key in keys} == {f"JOB#{n}" for n in range(UNFINISHED_SHARDS)}
    client = Counting(dynamodb)

    # When the sweep runs
    found = stuck(stack, client, now=now)

    # Then it found them all with one Query per shard and no Scan
    assert found == sorted(key["pk"] for key in keys)
    assert client.operations == ["query"] * UNFINISHED_SHARDS


def test_stuck_jobs_follows_last_evaluated_key_across_pages(stack, dynamodb):
    now = time.time()
    keys = [store_old(stack, f"SMpage{index}", now) for index in range(9)]
    client = Counting(dynamodb, query_limit=2)

    found = stuck(stack, client, now=now)

    assert found == sorted(key["pk"] for key in keys)
    assert len(client.operations) > UNFINISHED_SHARDS and set(client.operations) == {"query"}


def test_stuck_jobs_are_received_or_lease_expired_before_the_cutoff_and_not_exhausted(stack, dynamodb):
    # Given one record in each situation
    now = time.time()
    table, records = EventsTable(stack.tables["EventsTable"]), JobRecords(stack.tables["EventsTable"])
    received = store_old(stack, "SMreceived", now)
    expired = store_old(stack, "SMexpired", now)
    records.claim(expired, now - 600, 60)  # its worker died ten minutes ago
    live = store_old(stack, "SMlive", now)
    records.claim(live, now, 600)
    exhausted = store_old(stack, "SMexhausted", now)
    records.mark_exhausted(exhausted, "boom", now=now)
    # a redriven job whose worker died, dead-lettered by a version that left it indexed (a rolling deploy)
    redriven = store_old(stack, "SMredriven", now)
    records.claim(redriven, now - 600, 60)
    dynamodb.update_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": redriven["pk"]}, "sk": {"S": redriven["sk"]}},
        UpdateExpression="SET exhausted = :yes",
        ExpressionAttributeValues={":yes": {"BOOL": True}},
    )
    table.store_if_new(
        message(provider_message_id="SMrecent"), received_at=now - 10
    )  # within the grace period

    # When the sweep runs with a cutoff one minute ago
    found = stuck(stack, dynamodb, now=now)

    # Then only the never-started and the abandoned job are stuck
    assert found == sorted([received["pk"], expired["pk"]])


def test_job_statistics_count_no_job_for_a_record_stored_without_one(stack):
    from switchboard.dal.job_records import scan_job_states
    from switchboard.services.job_stats import job_stats

    # Given a canary stored without a job (every hourly health check stores two) and a message whose
    # job waits in the queue
    store_old(stack, "SMcanary", time.time(), job=False)
    store_old(stack, "SMwaiting", time.time())

    # When `switchboard jobs stats` (and the daily digest) count the jobs
    stats = job_stats(scan_job_states(stack.tables["EventsTable"]))

    # Then only the real job is pending: the canary is no job that will never run (it was "pending"
    # forever, 48 more a day)
    assert (stats["total"], stats["pending"]) == (1, 1)
