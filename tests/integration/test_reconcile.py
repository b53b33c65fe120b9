"""Reconciliation against moto (the template's table and queues) and the sandbox provider in-process
over loopback: the real twilio SDK and `requests` page through its lists, which hold messages whose
webhooks it dropped (drop_rate 1.0), so every one of them is missing until reconciled."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from model_factories import message, status_update

from switchboard.canary import canary_body, new_token
from switchboard.dal.events_table import EventsTable
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.providers.listing import Pacing
from switchboard.providers.twilio_listing import list_twilio_messages
from switchboard.providers.twilio_rest import twilio_client
from switchboard.retry import PROVIDER_LISTING
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.reconcile import OpenPhoneSource, Reconciler, TwilioSource
from switchboard_ops.local.sqs_events import receive_batch, sqs_event
from switchboard_ops.project import load_handler
from switchboard_ops.sandbox import Sandbox

BUSINESS = "+14155559876"  # the sandbox's default OpenPhone number (PNtoDbDhuz)
PHONE_NUMBER_ID = "PNtoDbDhuz"
CUSTOMERS = ["+14155550123", "+14155550188"]
HOUR = 3600.0


@pytest.fixture(autouse=True)
def _fresh(sandbox: Sandbox) -> None:
    sandbox.reset()


class Sleeps(list[float]):
    """Records every backoff; sleeps for real only `real` seconds (enough for the sandbox's limiter)."""

    def __init__(self, real: bool = False) -> None:
        super().__init__()
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.real:
            time.sleep(seconds)


def pacing(bucket_rate: float = 1000.0, sleeps: Sleeps | None = None) -> Pacing:
    return Pacing(
        bucket=TokenBucket(bucket_rate),
        policy=replace(PROVIDER_LISTING, max_attempts=4, base_seconds=0.01, cap_seconds=0.05),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


class Counting:
    """A boto3 client proxy counting calls by operation (the existence check must batch)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return attribute(*args, **kwargs)

        return call


def twilio_source(sandbox: Sandbox, page_size: int = 10, **kwargs: Any) -> TwilioSource:
    credentials = {"account_sid": sandbox.twilio_account_sid, "auth_token": sandbox.twilio_auth_token}
    kwargs.setdefault("pacing", pacing())
    return TwilioSource(credentials, base_url=sandbox.url, page_size=page_size, **kwargs)


def openphone_source(sandbox: Sandbox, max_results: int = 4) -> OpenPhoneSource:
    return OpenPhoneSource(
        {"api_key": sandbox.openphone_api_key},
        phone_number_id=PHONE_NUMBER_ID,
        conversations=[[number] for number in CUSTOMERS],
        base_url=sandbox.url,
        max_results=max_results,
        pacing=pacing(),
    )


def build(stack: Any, sources: list[Any], *, dynamodb: Any = None, **kwargs: Any) -> Reconciler:
    from switchboard.dal.aws import client

    table = stack.tables["EventsTable"]
    return Reconciler(
        sources={source.name: source for source in sources},
        records=ReconcileRecords(table, dynamodb=dynamodb or client("dynamodb"), sleep=lambda s: None),
        store=EventsTable(table),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
        **kwargs,
    )


def receive(sandbox: Sandbox, provider: str, count: int, *, start: int = 0, ago: float = 60.0) -> None:
    now = time.time()
    for index in range(start, start + count):
        customer = CUSTOMERS[index % len(CUSTOMERS)]
        at = now - ago - index  # distinct, in the past (the lists filter on whole seconds)
        sandbox.inbound(provider, customer, BUSINESS, f"reply {index}", date=at, wait=False)


def queued_jobs(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    while batch := receive_batch(sqs, stack.queues["ProcessingQueue"]):
        jobs += [json.loads(message["Body"]) for message in batch]
        sqs.delete_message_batch(
            QueueUrl=stack.queues["ProcessingQueue"],
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return jobs


# --- paging, batching, idempotence ---------------------------------------------------------------------


def test_backfills_every_missing_message_across_many_pages_and_a_second_run_finds_none(
    stack, sandbox, dynamodb, sqs
):
    receive(sandbox, "twilio", 45)
    receive(sandbox, "openphone", 10)
    # 5 Twilio messages did arrive by webhook: stored already, they are "existing", not new.
    first_page = next(
        list_twilio_messages(
            {"account_sid": sandbox.twilio_account_sid, "auth_token": sandbox.twilio_auth_token},
            after=_ago(48 * HOUR),
            before=_ago(0),
            page_size=5,
            base_url=sandbox.url,
        )
    )[0]
    for listed in first_page:
        EventsTable(stack.tables["EventsTable"]).store_if_new(listed, source="webhook")

    counting = Counting(dynamodb)
    reconciler = build(stack, [twilio_source(sandbox), openphone_source(sandbox)], dynamodb=counting)
    result = reconciler.run()

    assert result["status"] == "completed"
    twilio, openphone = result["stats"]["twilio"], result["stats"]["openphone"]
    assert twilio["pages"] == 5 and twilio["messages_processed"] == 45
    assert (twilio["new_messages"], twilio["existing_messages"], twilio["errors"]) == (40, 5, 0)
    # 5 messages per conversation, 4 a page: 2 pages each
    assert openphone["pages"] == 4 and openphone["new_messages"] == 10 and openphone["errors"] == 0
    assert result["totals"]["new_messages"] == 50
    # existence checked a page at a time (BatchGetItem), never one read per message
    assert counting.calls.get("batch_get_item") == 5 + 4
    assert "get_item" not in counting.calls

    oldest = next(m for m in sandbox.messages("twilio") if m.body == "reply 44")
    stored = EventsTable(stack.tables["EventsTable"]).get(f"EVT#twilio#{oldest.id}", "MESSAGE")
    assert stored is not None and stored["source"] == "reconciliation" and stored["direction"] == "inbound"
    assert stored["body"] == "reply 44" and stored["sender"] == CUSTOMERS[0]
    jobs = queued_jobs(sqs, stack)
    assert len(jobs) == 50 and {job["provider"] for job in jobs} == {"twilio", "openphone"}

    run = ReconcileRecords(stack.tables["EventsTable"]).get_run(result["run"])
    assert run is not None and run["status"] == "completed" and run["finished"] and run["started"]
    assert run["stats"]["twilio"]["new_messages"] == 40 and run["window_hours"] == 48
    assert run["done"] == 1.0  # the progress bar's share

    again = build(stack, [twilio_source(sandbox), openphone_source(sandbox)]).run()
    assert again["totals"]["new_messages"] == 0
    assert again["totals"]["existing_messages"] == 55
    assert queued_jobs(sqs, stack) == []


def _ago(seconds: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time() - seconds, tz=UTC)


# --- final statuses of outbound messages ----------------------------------------------------------


def test_final_statuses_whose_callbacks_were_lost_are_backfilled_then_merged(
    stack, sandbox, dynamodb, sqs, lambda_context
):
    # Given three messages sent through Twilio, one to a number that never receives, all of whose
    # status callbacks are lost
    sandbox.configure(callback_drop_rate=1.0, outcomes={CUSTOMERS[1]: "undelivered"})
    client = twilio_client(sandbox.twilio_account_sid, sandbox.twilio_auth_token, base_url=sandbox.url)
    recipients = [CUSTOMERS[0], CUSTOMERS[1], CUSTOMERS[0]]
    sent = [
        client.messages.create(to=to, from_=BUSINESS, body=f"reminder {n}") for n, to in enumerate(recipients)
    ]
    assert sandbox.wait_idle()
    # ... except the third one's "delivered" callback, which did arrive (ingest stored it)
    table = EventsTable(stack.tables["EventsTable"])
    table.store_if_new(
        status_update(provider_message_id=sent[2].sid, occurred_at=_ago(30)), received_at=time.time()
    )

    # When reconciliation lists them
    result = build(stack, [twilio_source(sandbox)]).run("twilio")

    # Then the two lost final statuses are stored as their callbacks would have been, with jobs
    stats = result["stats"]["twilio"]
    assert (stats["messages_processed"], stats["statuses_backfilled"], stats["errors"]) == (3, 2, 0)
    delivered = table.get(f"EVT#twilio#{sent[0].sid}", "STATUS#delivered")
    undelivered = table.get(f"EVT#twilio#{sent[1].sid}", "STATUS#undelivered")
    assert delivered is not None and delivered["source"] == "reconciliation"
    assert undelivered is not None and undelivered["error_code"] == "30003"
    # ... and the worker merges them into each message's delivery status
    worker = load_handler("worker")
    batch = receive_batch(sqs, stack.queues["ProcessingQueue"])
    status_jobs = [json.loads(message["Body"]) for message in batch if "STATUS#" in message["Body"]]
    assert sorted(job["provider_message_id"] for job in status_jobs) == sorted([sent[0].sid, sent[1].sid])
    worker.handler(sqs_event(batch, stack.queue_arns["ProcessingQueue"]), lambda_context)
    delivered = table.get(f"EVT#twilio#{sent[0].sid}", "DELIVERY")
    assert delivered is not None and delivered["delivery_status"] == "delivered"
    merged = table.get(f"EVT#twilio#{sent[1].sid}", "DELIVERY")
    assert merged is not None
    assert (merged["delivery_status"], merged["error_code"]) == ("undelivered", "30003")

    # When it runs again, nothing is stored twice
    again = build(stack, [twilio_source(sandbox)]).run("twilio")
    assert again["stats"]["twilio"]["statuses_backfilled"] == 0


def test_a_final_status_never_moves_a_message_backwards_and_unfinished_ones_are_left_to_callbacks(
    stack, sandbox, sqs
):
    # Given a message still on its way: no final status yet
    sandbox.configure(callback_drop_rate=1.0, status_delay=60.0)
    client = twilio_client(sandbox.twilio_account_sid, sandbox.twilio_auth_token, base_url=sandbox.url)
    on_its_way = client.messages.create(to=CUSTOMERS[0], from_=BUSINESS, body="still queued")

    # When reconciliation lists it
    result = build(stack, [twilio_source(sandbox)]).run("twilio")

    # Then no status is stored for it: only final statuses stand for a lost callback
    assert result["stats"]["twilio"]["statuses_backfilled"] == 0
    table = EventsTable(stack.tables["EventsTable"])
    assert table.get(f"EVT#twilio#{on_its_way.sid}", "STATUS#queued") is None


# --- 429 / 5xx ---------------------------------------------------------------------------------------


def test_injected_5xx_and_429_are_retried_with_backoff(stack, sandbox):
    receive(sandbox, "twilio", 12)
    sandbox.add_faults({"path": "/2010-04-01/", "status": 503, "count": 2})
    sandbox.add_faults({"path": "/2010-04-01/", "status": 429, "count": 1})
    sleeps = Sleeps()
    result = build(stack, [twilio_source(sandbox, page_size=5, pacing=pacing(sleeps=sleeps))]).run("twilio")

    stats = result["stats"]["twilio"]
    assert stats["new_messages"] == 12 and stats["errors"] == 0
    assert stats["retries"] == 3 and stats["throttled"] == 1
    assert sleeps == [0.01, 0.02, 0.04]  # exponential (no Retry-After on these faults)


def test_a_provider_that_keeps_failing_is_an_error_not_a_crash(stack, sandbox):
    receive(sandbox, "twilio", 3)
    sandbox.add_faults({"path": "/2010-04-01/", "status": 500, "count": 10})
    result = build(stack, [twilio_source(sandbox)]).run("twilio")
    assert result["status"] == "completed"
    assert result["stats"]["twilio"]["errors"] == 1 and result["stats"]["twilio"]["retries"] == 3
    sandbox.clear_faults()


def test_the_sandbox_rate_limit_429_retry_after_is_honoured_and_the_bucket_avoids_it(stack, sandbox):
    receive(sandbox, "openphone", 12)
    # 2/s with a burst of 2: the 7 requests outrun it unless a page takes over 350 ms (a loaded CI machine
    # did not outrun 4/s, a burst of 4, every time)
    sandbox.configure(openphone_rate=2.0)
    sleeps = Sleeps(real=True)
    source = openphone_source(sandbox, max_results=2)  # 6 + 1 list requests
    source.pacing = pacing(sleeps=sleeps)  # client bucket far above the provider's limit
    result = build(stack, [source]).run("openphone")
    stats = result["stats"]["openphone"]
    assert stats["new_messages"] == 12 and stats["errors"] == 0
    assert stats["throttled"] >= 1 and 1.0 in sleeps  # Retry-After: 1, not the 0.01 s backoff

    # the same work under a client-side bucket below the limit: no 429 at all
    sandbox.reset()
    sandbox.configure(openphone_rate=2.0)
    receive(sandbox, "openphone", 8, start=100)
    source = openphone_source(sandbox, max_results=2)
    source.pacing = pacing(bucket_rate=1.5)
    stats = build(stack, [source]).run("openphone")["stats"]["openphone"]
    assert stats["new_messages"] == 8 and stats["throttled"] == 0


# --- stuck jobs ---------------------------------------------------------------------------------------


def test_stored_jobs_never_processed_are_re_enqueued_after_the_grace_period(stack, sandbox, dynamodb, sqs):
    table = EventsTable(stack.tables["EventsTable"])
    now = time.time()
    table.store_if_new(
        message(provider_message_id="SMstuck"), received_at=now - HOUR
    )  # its job was lost an hour ago
    table.store_if_new(
        message(provider_message_id="SMrecent"), received_at=now - 60
    )  # within the grace period
    table.store_if_new(message(provider_message_id="SMdone"), received_at=now - HOUR)
    # a health-check canary is stored without a job (as ingest stores it): never in the unfinished index
    table.store_if_new(
        message(provider_message_id="SMcanary", body=canary_body(new_token(now))),
        received_at=now - HOUR,
        job=False,
    )
    dynamodb.update_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": "EVT#twilio#SMdone"}, "sk": {"S": "MESSAGE"}},
        UpdateExpression="SET job_state = :p",
        ExpressionAttributeValues={":p": {"S": "PROCESSED"}},
    )

    result = build(stack, [twilio_source(sandbox)]).run("twilio")

    assert result["requeued"] == 1 and result["stats"]["twilio"]["requeued"] == 1
    jobs = queued_jobs(sqs, stack)
    assert [job["provider_message_id"] for job in jobs] == ["SMstuck"]
    assert jobs[0]["pk"] == "EVT#twilio#SMstuck" and jobs[0]["kind"] == "message"


# --- time budget -------------------------------------------------------------------------------------


def test_a_run_checkpoints_before_the_time_limit_and_resumes_where_it_stopped(stack, sandbox, sqs):
    receive(sandbox, "twilio", 35)  # 4 pages of 10
    calls = {"n": 0}

    def remaining_ms() -> int:  # plenty after two pages, then under the safety margin
        calls["n"] += 1
        return 800_000 if calls["n"] <= 2 else 10_000

    reconciler = build(stack, [twilio_source(sandbox)])
    first = reconciler.run("twilio", timedelta(hours=48), remaining_ms=remaining_ms)

    assert first["status"] == "checkpointed" and first["cursor"]
    assert first["stats"]["twilio"]["pages"] == 3 and first["stats"]["twilio"]["new_messages"] == 30
    run = ReconcileRecords(stack.tables["EventsTable"]).get_run(first["run"])
    assert (
        run is not None and run["status"] == "checkpointed" and run["checkpoint"]["cursor"] == first["cursor"]
    )
    assert 0 < run["done"] < 1  # newest first: done back to the third page's oldest message

    second = build(stack, [twilio_source(sandbox)]).run(resume_from=first["checkpoint"])

    assert second["status"] == "completed" and second["run"] == first["run"]
    assert second["stats"]["twilio"]["new_messages"] == 35  # the same run's stats, continued
    assert second["stats"]["twilio"]["pages"] == 4
    assert second["stats"]["twilio"]["existing_messages"] == 0  # no page was listed twice
    assert len(queued_jobs(sqs, stack)) == 35
    assert build(stack, [twilio_source(sandbox)]).run("twilio")["totals"]["new_messages"] == 0


def test_a_run_checkpointed_by_the_untyped_reconciler_is_resumed_and_completed(stack, sandbox, sqs):
    # Given a run record as the untyped reconciler stored it at a checkpoint between its two providers
    # (before the capture-rate counters existed), whose lock has expired meanwhile
    receive(sandbox, "openphone", 3)
    now = time.time()
    started = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now))
    sk = f"RUN#{started}"
    old_stats = {
        "pages": 2,
        "messages_processed": 20,
        "new_messages": 4,
        "existing_messages": 16,
        "requeued": 0,
    }
    old_stats |= {"statuses_backfilled": 0, "errors": 0, "retries": 0, "throttled": 0}
    ReconcileRecords(stack.tables["EventsTable"]).put_run(
        {
            "sk": sk,
            "status": "checkpointed",
            "started": started,
            "window_start": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now - 48 * HOUR)),
            "window_end": started,
            "window_hours": 48.0,
            "providers": ["twilio", "openphone"],
            "stats": {"twilio": old_stats, "openphone": {key: 0 for key in old_stats}},
            "position": 1,
            "cursor": None,
            "elapsed_seconds": 2.5,
            "segments": 1,
            "done": 0.5,
            "swept": True,
            "requeued": 0,
            "checkpoint": {"run": sk, "provider": "openphone", "cursor": None, "lock": "expired-token"},
        }
    )

    # When the typed reconciler resumes it
    result = build(stack, [twilio_source(sandbox), openphone_source(sandbox)]).run(resume_from=sk)

    # Then it lists the second provider, keeps the first one's counts and completes the same run
    assert result["status"] == "completed" and result["run"] == sk and result["segments"] == 2
    assert result["stats"]["twilio"]["new_messages"] == 4 and result["stats"]["twilio"]["inbound_listed"] == 0
    assert result["stats"]["openphone"]["new_messages"] == 3 and result["totals"]["new_messages"] == 7
    run = ReconcileRecords(stack.tables["EventsTable"]).get_run(sk)
    assert run is not None and run["status"] == "completed" and "checkpoint" not in run
    assert len(queued_jobs(sqs, stack)) == 3


# --- the lock ----------------------------------------------------------------------------------------


def test_a_run_never_starts_while_another_holds_the_lock(stack, sandbox):
    receive(sandbox, "twilio", 2)
    records = ReconcileRecords(stack.tables["EventsTable"])
    assert records.acquire_lock("someone-else", now=time.time(), ttl_seconds=600)

    assert build(stack, [twilio_source(sandbox)]).run("twilio") == {"status": "locked"}

    # an expired lock (its run crashed) is taken over
    later = build(stack, [twilio_source(sandbox)], clock=lambda: time.time() + 601)
    assert later.run("twilio")["status"] == "completed"
    # and released at the end: the next run starts
    assert records.acquire_lock("next", now=time.time(), ttl_seconds=600)
    records.release_lock("next")


# --- integrity ---------------------------------------------------------------------------------------


def test_integrity_check_compares_per_day_counts_and_alerts_below_the_threshold(stack, sandbox, dynamodb):
    from datetime import UTC, datetime

    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    for days_ago, count in ((3, 3), (2, 2)):
        for index in range(count):
            sandbox.inbound(
                "twilio",
                CUSTOMERS[0],
                BUSINESS,
                f"d{days_ago}-{index}",
                date=midnight - days_ago * 86400 + 12 * HOUR + index,
                wait=False,
            )
    alerts: list[tuple[str, str]] = []
    reconciler = build(stack, [twilio_source(sandbox)], alert=lambda s, m: alerts.append((s, m)))
    assert reconciler.run("twilio", timedelta(days=5))["totals"]["new_messages"] == 5

    ok = reconciler.integrity_check(days=7)
    assert ok["status"] == "ok" and alerts == []
    by_day = {row["day"]: row for row in ok["days"]}
    three_days_ago = datetime.fromtimestamp(midnight - 3 * 86400, tz=UTC).date().isoformat()
    assert by_day[three_days_ago]["provider_count"] == 3 and by_day[three_days_ago]["stored_count"] == 3

    lost = next(m for m in sandbox.messages("twilio") if m.body == "d3-0")
    dynamodb.delete_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": f"EVT#twilio#{lost.id}"}, "sk": {"S": "MESSAGE"}},
    )
    short = reconciler.integrity_check(days=7)
    assert short["status"] == "alert" and short["below_threshold"] == 1
    row = next(row for row in short["days"] if row["day"] == three_days_ago)
    assert row["stored_count"] == 2 and row["consistency"] == pytest.approx(2 / 3)
    assert len(alerts) == 1 and three_days_ago in alerts[0][1]


# --- the handler -------------------------------------------------------------------------------------


def test_the_scheduled_handler_reconciles_the_configured_providers(
    stack, sandbox, monkeypatch, lambda_context, sqs
):
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    monkeypatch.setenv("RECONCILE_PROVIDERS", "twilio")
    monkeypatch.setenv("TWILIO_API_BASE_URL", sandbox.url)
    receive(sandbox, "twilio", 3)
    handler = load_handler("reconcile").handler
    result = handler({"source": "aws.events", "detail-type": "Scheduled Event"}, lambda_context)
    assert result["status"] == "completed" and result["totals"]["new_messages"] == 3
    integrity = handler({"action": "integrity", "days": 2}, lambda_context)
    assert integrity["status"] in ("ok", "alert") and len(integrity["days"]) == 2


def test_the_weekly_integrity_run_publishes_one_alert_when_a_day_falls_short(
    stack, sandbox, monkeypatch, lambda_context, sqs
):
    import boto3

    from switchboard_ops.local.provision import alerts_inbox

    # Given yesterday's messages in the provider's list, none stored (their webhooks were dropped)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    monkeypatch.setenv("RECONCILE_PROVIDERS", "twilio")
    monkeypatch.setenv("TWILIO_API_BASE_URL", sandbox.url)
    inbox = alerts_inbox(boto3.Session(region_name="us-east-1"), stack)
    receive(sandbox, "twilio", 2, ago=86400.0)
    # When the weekly schedule's event reaches the handler
    result = load_handler("reconcile").handler({"action": "integrity", "days": 2}, lambda_context)

    # Then the run reports the short day and the alerts topic got one alert
    assert result["status"] == "alert"
    subjects = [json.loads(message["Body"])["Subject"] for message in receive_batch(sqs, inbox)]
    assert subjects == ["Switchboard integrity check below 99.9 %"]
