"""The callback watch against moto: a send waits in the AwaitingCallbacks index until its first status
callback is merged; the periodic check counts the overdue ones per provider (CallbacksOverdue)."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest

from switchboard.dal.callbacks import AwaitedCallbacks
from switchboard.dal.dead_letters import RetryQueues
from switchboard.dal.events_table import EventsTable
from switchboard.dal.job_records import JobRecords
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.outbound_records import OutboundRecords
from switchboard.models.outbound import SendRequest
from switchboard.models.plan import DeliveryMerge
from switchboard.providers.outbound import Sent
from switchboard.services import callback_watch as watch_module
from switchboard.services.processing.delivery import status_rank
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.sender import Sender
from switchboard_ops.iam.calls import attributing
from switchboard_ops.project import load_event, load_handler

health_handler = load_handler("health_check")
SENT_AT = 1_795_593_600.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Provider:
    def __init__(self) -> None:
        self.ids = count(1)

    def __call__(self, request: SendRequest) -> Sent:
        return Sent(provider_message_id=f"SM{next(self.ids):032d}", status="queued")


@pytest.fixture
def clock() -> Clock:
    return Clock(SENT_AT)


@pytest.fixture
def send(stack: Any, clock: Clock) -> Any:
    """SenderFunction's Sender watching both providers' callbacks; send(provider) -> provider message id."""
    table = stack.tables["EventsTable"]
    ids = count(1)
    sender = Sender(
        records=OutboundRecords(table),
        consents=JobRecords(table),
        queues=RetryQueues(stack.queues["OutboundQueue"], stack.queues["OutboundDeadLetterQueue"]),
        transports={"twilio": Provider(), "openphone": Provider()},
        limits={"twilio": TokenBucket(1000), "openphone": TokenBucket(1000)},
        store=EventsTable(table),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
        clock=clock,
        callbacks=AwaitedCallbacks(table),
        awaits_callback=frozenset(["twilio", "openphone"]),
    )
    handle = attributing("SenderFunction", sender.handle)

    def one(provider: str = "twilio") -> str:
        key = f"send-{next(ids)}"
        request = SendRequest(
            send_key=key,
            provider=provider,
            sender="+14155559876",
            recipient="+14155550123",
            body="Hi",
        )
        assert handle(request.model_dump_json(), receipt_handle="r", receive_count=1) == "sent"
        return str(OutboundRecords(table).get(key)["provider_message_id"])  # type: ignore[index]

    one.sender = sender  # type: ignore[attr-defined]  # a test may swap its parts
    return one


@pytest.fixture
def watch(stack: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """HealthCheckFunction's callback watch as wired from the environment, on the test's clock."""
    monkeypatch.setenv("OUTBOUND_QUEUE_URL", stack.queues["OutboundQueue"])
    monkeypatch.setenv("HEALTH_VERIFY_QUEUE_URL", stack.queues["HealthVerifyQueue"])
    monkeypatch.setenv("ALERTS_TOPIC_ARN", stack.topics["AlertsTopic"])
    from switchboard.function_settings import health_settings

    health_settings.cache_clear()
    watch_module.default_callback_watch().clock = clock
    yield watch_module.default_callback_watch()
    health_settings.cache_clear()


def merge_callback(stack: Any, provider: str, message_id: str, status: str = "sent") -> None:
    """What the worker does with a status callback's job (WorkerFunction's merge)."""
    merge = DeliveryMerge(provider, message_id, status, status_rank(status), "2026-11-26T00:00:00Z", None)
    attributing("WorkerFunction", JobRecords(stack.tables["EventsTable"]).merge_delivery)(merge)


def run_check(lambda_context: Any) -> dict[str, Any]:
    return health_handler.handler(load_event("health_check/callback_watch"), lambda_context)


def overdue_metrics(output: str) -> dict[str | None, float]:
    """CallbacksOverdue values in the EMF lines on stdout, by provider dimension (None: the total)."""
    found: dict[str | None, float] = {}
    for line in output.splitlines():
        if '"_aws"' in line and '"CallbacksOverdue"' in line:
            document = json.loads(line)
            value = document["CallbacksOverdue"]  # a list when Powertools collected several
            found[document.get("provider")] = sum(value) if isinstance(value, list) else value
    return found


def test_a_send_whose_callback_never_comes_is_overdue_for_its_provider(
    send, watch, clock, lambda_context, capsys
):
    # Given a Twilio send accepted, and no status callback for longer than the overdue time
    send("twilio")
    clock.now += watch.overdue_after_seconds + 1
    capsys.readouterr()

    # When the scheduled check runs
    result = run_check(lambda_context)

    # Then it counts one overdue Twilio send, and emits it by provider and in total (the alarm's metric)
    assert result == {"status": "overdue", "overdue": {"twilio": 1, "openphone": 0}}
    assert overdue_metrics(capsys.readouterr().out) == {"twilio": 1, "openphone": 0, None: 1}


def test_a_merged_status_callback_ends_the_wait(stack, send, watch, clock, lambda_context):
    # Given an OpenPhone send whose delivery webhook was merged by the worker
    message_id = send("openphone")
    merge_callback(stack, "openphone", message_id, "delivered")
    clock.now += watch.overdue_after_seconds + 1

    # When the check runs
    result = run_check(lambda_context)

    # Then nothing is overdue
    assert result["overdue"] == {"twilio": 0, "openphone": 0}


def test_a_callback_merged_before_the_mark_leaves_nothing_waiting(stack, watch, clock, lambda_context):
    # Given a callback that beat the sender's mark (merged first)
    merge_callback(stack, "twilio", "SMearly")

    # When the sender marks the send afterwards
    marked = AwaitedCallbacks(stack.tables["EventsTable"]).expect("twilio", "SMearly", clock.now)
    clock.now += watch.overdue_after_seconds + 1

    # Then the mark is refused and the check counts nothing
    assert marked is False
    assert run_check(lambda_context)["overdue"]["twilio"] == 0


def test_a_send_whose_mark_cannot_be_written_is_still_sent_once(stack, send, watch, clock, lambda_context):
    # Given the table refusing the sender's mark (after the provider accepted the send)
    from switchboard.errors import StoreUnavailable

    class Unavailable:
        def expect(self, provider: str, provider_message_id: str, sent_at: float) -> bool:
            raise StoreUnavailable("DynamoDB update_item: ProvisionedThroughputExceededException")

    send.sender.callbacks = Unavailable()

    # When the send goes out, it is reported sent (SQS must not redeliver a finished send)
    send("twilio")
    clock.now += watch.overdue_after_seconds + 1

    # Then it is simply not watched
    assert run_check(lambda_context)["overdue"]["twilio"] == 0


def test_a_send_younger_than_the_overdue_time_is_not_counted(send, watch, clock, lambda_context):
    send("twilio")
    clock.now += watch.overdue_after_seconds - 1

    assert run_check(lambda_context)["overdue"]["twilio"] == 0


def test_a_send_older_than_the_window_stops_counting(send, watch, clock, lambda_context):
    # Given one lost callback, long ago
    send("twilio")
    clock.now += watch.window_seconds + 1

    # Then it no longer holds the alarm
    assert run_check(lambda_context)["status"] == "ok"


def test_with_nothing_sent_the_check_reports_zero(watch, lambda_context, capsys):
    capsys.readouterr()

    result = run_check(lambda_context)

    assert result == {"status": "ok", "overdue": {"twilio": 0, "openphone": 0}}
    assert overdue_metrics(capsys.readouterr().out)[None] == 0
