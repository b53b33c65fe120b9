"""The reminder dispatcher and the sender's reminder path against moto, sends through the sandbox provider
(the real twilio SDK over loopback): due -> queued -> sent once -> delivered; cancelled, moved, quiet
hours now, retries (2 then 4 minutes), always failing, and a dispatcher killed mid-batch then rerun."""

from __future__ import annotations

import json
import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime, time
from functools import partial
from typing import Any

import pytest

from switchboard.dal.address_keys import AddressKeys
from switchboard.dal.aws import client
from switchboard.dal.dead_letters import RetryQueues
from switchboard.dal.events_table import EventsTable
from switchboard.dal.items import from_item, to_attribute_values
from switchboard.dal.job_records import JobRecords
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.outbound_queue import OutboundQueue
from switchboard.dal.outbound_records import OutboundRecords
from switchboard.dal.recipients import Recipients
from switchboard.dal.reminder_ratings import ReminderRatings
from switchboard.dal.reminder_sends import ReminderSends
from switchboard.dal.reminders import ReminderRecords, day_key, due_shards
from switchboard.dal.rollout_flag import RolloutFlagStore
from switchboard.models import Message, StatusUpdate
from switchboard.models.outbound import SendRequest
from switchboard.models.plan import DeliveryMerge
from switchboard.models.recipients import Recipient
from switchboard.models.reminders import ReminderPlan, ReminderState
from switchboard.models.rollout import RolloutFlag
from switchboard.providers.outbound import send_twilio
from switchboard.services.processing.delivery import status_rank
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.reminders.delivery import ReminderDeliveries
from switchboard.services.reminders.dispatch import Dispatcher
from switchboard.services.reminders.ratings import ReminderRatingStep
from switchboard.services.reminders.rollout import Rollout
from switchboard.services.sender import Sender
from switchboard.services.store import store_and_enqueue
from switchboard.services.worker import Worker
from switchboard_ops.iam.calls import attributing
from switchboard_ops.project import load_event, load_handler
from switchboard_ops.sandbox import FaultRule, Sandbox

NOW = 1_796_137_200 - 15 * 60  # 2026-12-01T14:45:00Z: the reminder of a 15:00Z booking is due
DAY = "2026-12-01"
ISO_AT = datetime.fromtimestamp(NOW + 9, tz=UTC).isoformat()  # a status callback's time
BUSINESS = "+14155559876"
PHONE = "+14155550123"
ALWAYS_OPEN = (time(0), time(0))  # an empty quiet window: "now" is never inside it


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("http://127.0.0.1:9", drop_rate=1.0, twilio_rate=1000.0) as box:
        yield box


@pytest.fixture(autouse=True)
def clean_sandbox(sandbox: Sandbox) -> None:
    sandbox.ctx.reset()
    sandbox.ctx.faults.clear()


def table(stack: Any) -> str:
    return str(stack.tables["EventsTable"])


def schedule(
    stack: Any,
    event_id: str,
    *,
    version: str = "00000000000000000001",
    start: float = NOW + 15 * 60,
    quiet: tuple[time, time] = ALWAYS_OPEN,
    phone: str = PHONE,
    due: float | None = None,
    all_day: str | None = None,
) -> None:
    """A scheduled reminder written as the worker's calendar step writes it, with its day's slot."""
    records = ReminderRecords(table(stack))
    digest = AddressKeys().of(phone)
    plan = ReminderPlan(
        calendar="calcom",
        event_id=event_id,
        version=version,
        state=ReminderState.SCHEDULED,
        due_at=datetime.fromtimestamp(start - 15 * 60 if due is None else due, tz=UTC),
        local_day=DAY,
        phone=phone,
        recipient=digest,
        zones=("UTC",),
        title="Checkup",
        start=None if all_day else datetime.fromtimestamp(start, tz=UTC).isoformat(),
        all_day=all_day,
        text=f"Reminder: Checkup ({event_id}) at 15:00",
    )
    assert records.write(plan, seen=records.get("calcom", event_id), now=NOW - 3600)[0]
    assert records.claim_slot(digest, DAY, event_id, 50)
    Recipients(table(stack)).put(Recipient(phone=phone, quiet_start=quiet[0], quiet_end=quiet[1]), NOW)


def dispatcher(stack: Any, *, outbound: Any = None, now: float = NOW, rollout: Any = None) -> Dispatcher:
    service = Dispatcher(
        store=ReminderSends(table(stack)),
        outbound=outbound or OutboundQueue(stack.queues["OutboundQueue"]),
        shards=due_shards(),
        provider="twilio",
        sender=BUSINESS,
        clock=lambda: now,
        **({"rollout": rollout} if rollout else {}),
    )
    service.run = attributing("ReminderDispatcherFunction", service.run)  # type: ignore[method-assign]
    return service


def sender(stack: Any, sandbox: Sandbox, queues: RetryQueues) -> Sender:
    credentials = {"account_sid": sandbox.twilio_account_sid, "auth_token": sandbox.twilio_auth_token}
    service = Sender(
        records=OutboundRecords(table(stack)),
        consents=JobRecords(table(stack)),
        queues=queues,
        transports={
            "twilio": partial(
                send_twilio, credentials=credentials, status_callback=None, base_url=sandbox.url
            )
        },
        limits={"twilio": TokenBucket(1000)},
        store=EventsTable(table(stack)),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
        reminders=ReminderSends(table(stack)),
        clock=lambda: NOW + 5,
    )
    service.handle = attributing("SenderFunction", service.handle)  # type: ignore[method-assign]
    return service


@pytest.fixture
def queues(stack: Any) -> RetryQueues:
    return RetryQueues(stack.queues["OutboundQueue"], stack.queues["OutboundDeadLetterQueue"])


def queued_bodies(sqs: Any, stack: Any) -> list[str]:
    """Every message on the outbound queue (received and deleted)."""
    url, bodies = stack.queues["OutboundQueue"], list[str]()
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def send_all(service: Sender, bodies: list[str]) -> list[str]:
    return [service.handle(body, receipt_handle="r", receive_count=1) for body in bodies]


def texts_at_sandbox(sandbox: Sandbox) -> list[str]:
    return [message.body for message in sandbox.ctx.store.messages("twilio")]


def redelivered(service: Sender, body: str, *, times: int) -> list[str]:
    """The sender handling one request as SQS redelivers it after each failure (receive counts 1..times)."""
    outcomes: list[str] = []
    for receive_count in range(1, times + 1):
        try:
            outcomes.append(service.handle(body, receipt_handle="r", receive_count=receive_count))
        except Exception:
            outcomes.append("retrying")
    return outcomes


def reminder(stack: Any, event_id: str) -> dict[str, Any]:
    found = ReminderRecords(table(stack)).get("calcom", event_id)
    assert found is not None
    return found


def test_a_due_reminder_is_queued_sent_once_and_delivered(stack, sqs, sandbox, queues):
    # Given a reminder due now
    schedule(stack, "b1")

    # When the dispatcher runs, then it is queued and has left the due index
    report = dispatcher(stack).run()
    assert (report.due, report.enqueued, report.claimed) == (1, 1, 1)
    queued = reminder(stack, "b1")
    assert queued["state"] == "queued" and "due_shard" not in queued

    # When the sender sends what was queued, then the sandbox received the SMS once, and it is sent
    bodies = queued_bodies(sqs, stack)
    assert json.loads(bodies[0])["send_key"] == "reminder:calcom:b1:00000000000000000001"
    assert send_all(sender(stack, sandbox, queues), bodies) == ["sent"]
    assert texts_at_sandbox(sandbox) == ["Reminder: Checkup (b1) at 15:00"]
    sent = reminder(stack, "b1")
    assert (sent["state"], sent["sent_at"]) == ("sent", (NOW + 5) * 1000)

    # When Twilio's delivered callback is processed by the worker, then the reminder is delivered
    status = StatusUpdate(
        provider="twilio",
        provider_message_id=sent["provider_message_id"],
        status="delivered",
        occurred_at=datetime.fromtimestamp(NOW + 9, tz=UTC),
        event_type="status.delivered",
        channel="sms",
        raw={"MessageStatus": "delivered"},
    )
    store_and_enqueue(
        status, EventsTable(table(stack)), JobsQueue(stack.queues["ProcessingQueue"]), received_at=NOW + 9
    )
    process_jobs(stack, sqs)
    delivered = reminder(stack, "b1")
    assert (delivered["state"], delivered["delivered_at"]) == ("delivered", (NOW + 9) * 1000)


def test_a_delivered_callback_merged_before_the_senders_link_still_delivers_the_reminder(
    stack, sqs, sandbox, queues
):
    # Given a queued reminder whose delivered callback the worker merges in the instant between the
    # provider accepting the SMS and the sender linking it to the reminder
    schedule(stack, "b11")
    dispatcher(stack).run()
    service = sender(stack, sandbox, queues)
    assert service.reminders is not None
    link = service.reminders.mark_sent

    def callback_first(send_key: str, provider: str, provider_message_id: str, now: float) -> Any:
        merge = DeliveryMerge(
            provider, provider_message_id, "delivered", status_rank("delivered"), ISO_AT, None
        )
        assert JobRecords(table(stack)).merge_delivery_returning(merge) is not None  # no link yet
        return link(send_key, provider, provider_message_id, now)

    service.reminders.mark_sent = callback_first  # type: ignore[method-assign]
    # When the sender sends it / Then the reminder ends delivered, at the callback's time
    assert send_all(service, queued_bodies(sqs, stack)) == ["sent"]
    delivered = reminder(stack, "b11")
    assert (delivered["state"], delivered["delivered_at"]) == ("delivered", (NOW + 9) * 1000)


def process_jobs(stack: Any, sqs: Any) -> None:
    records = JobRecords(table(stack))
    worker = Worker(
        records,
        RetryQueues(stack.queues["ProcessingQueue"], stack.queues["ProcessingDeadLetterQueue"]),
        reminder_deliveries=ReminderDeliveries(ReminderSends(table(stack))),
        ratings=ReminderRatingStep(ReminderRatings(table(stack))),
        clock=lambda: NOW + 10,
    )
    handle = attributing("WorkerFunction", worker.handle)
    url = stack.queues["ProcessingQueue"]
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        handle(message["Body"], receipt_handle=message["ReceiptHandle"], receive_count=1)


def test_the_scheduled_event_runs_the_dispatcher_on_the_real_clock(stack, sqs, monkeypatch, lambda_context):
    # Given a reminder due a minute ago (real time) and the function's sending number configured
    monkeypatch.setenv("REMINDER_FROM_NUMBER", BUSINESS)
    monkeypatch.setenv("OUTBOUND_QUEUE_URL", stack.queues["OutboundQueue"])
    now = clock.time()
    schedule(stack, "h1", start=now + 14 * 60)

    # When EventBridge's minute fires the handler
    result = load_handler("reminder_dispatcher").handler(
        load_event("reminder_dispatcher/scheduled"), lambda_context
    )

    # Then the reminder is on the outbound queue from that number, and queued
    assert (result["due"], result["enqueued"], result["claimed"]) == (1, 1, 1)
    (body,) = queued_bodies(sqs, stack)
    assert (json.loads(body)["sender"], reminder(stack, "h1")["state"]) == (BUSINESS, "queued")


def test_a_reminder_cancelled_before_it_is_due_is_never_sent(stack, sqs, sandbox, queues):
    # Given a reminder cancelled (the booking was) before its time
    schedule(stack, "b2")
    ReminderRecords(table(stack)).cancel("calcom", "b2", "event_cancelled", now=NOW - 60)

    # When the dispatcher runs, then nothing is queued and nothing reaches the sandbox
    assert dispatcher(stack).run().enqueued == 0
    assert send_all(sender(stack, sandbox, queues), queued_bodies(sqs, stack)) == []
    assert texts_at_sandbox(sandbox) == []


def test_a_reminder_cancelled_after_it_was_queued_is_not_sent(stack, sqs, sandbox, queues):
    # Given a queued reminder whose booking is then cancelled
    schedule(stack, "b3")
    dispatcher(stack).run()
    ReminderSends(table(stack)).record_delivery(
        "EVT#calcom#b3", "00000000000000000001", ReminderState.CANCELLED, NOW
    )

    # When the sender takes it, then it is skipped at send time
    assert send_all(sender(stack, sandbox, queues), queued_bodies(sqs, stack)) == ["skipped"]
    assert texts_at_sandbox(sandbox) == []


def test_a_rescheduled_reminder_sends_only_its_new_version(stack, sqs, sandbox, queues):
    # Given version 1 queued, then the booking moved (version 2, due later)
    schedule(stack, "b4")
    dispatcher(stack).run()
    old = queued_bodies(sqs, stack)
    records = ReminderRecords(table(stack))
    stored = records.get("calcom", "b4")
    moved = ReminderPlan(
        calendar="calcom",
        event_id="b4",
        version="00000000000000000002",
        state=ReminderState.SCHEDULED,
        due_at=datetime.fromtimestamp(NOW + 4 * 3600, tz=UTC),
        local_day=DAY,
        phone=PHONE,
        recipient=AddressKeys().of(PHONE),
        zones=("UTC",),
        title="Checkup",
        start=datetime.fromtimestamp(NOW + 4 * 3600 + 900, tz=UTC).isoformat(),
        text="Reminder: moved",
    )
    assert records.write(moved, seen=stored, now=NOW)[0]

    # When the old copy is sent and, later, the dispatcher runs at the new time
    service = sender(stack, sandbox, queues)
    assert send_all(service, old) == ["skipped"]
    dispatcher(stack, now=NOW + 4 * 3600).run()

    # Then only the new version reached the sandbox
    assert send_all(service, queued_bodies(sqs, stack)) == ["sent"]
    assert texts_at_sandbox(sandbox) == ["Reminder: moved"]


def test_a_reminder_due_inside_quiet_hours_now_is_deferred_to_their_end(stack, sqs):
    # Given a reminder due now whose recipient's quiet hours (changed after planning) cover 14:00-16:00
    # UTC, for an event at 17:45
    schedule(stack, "b5", start=NOW + 3 * 3600, quiet=(time(14), time(16)), due=NOW)

    # When the dispatcher runs at 14:45, then nothing is queued and the reminder waits for 16:00
    report = dispatcher(stack).run()
    assert (report.enqueued, report.deferred) == (0, 1)
    assert queued_bodies(sqs, stack) == []
    deferred = reminder(stack, "b5")
    assert (deferred["state"], deferred["due_at"]) == ("scheduled", (NOW + 75 * 60) * 1000)


def test_a_suppressed_number_is_cancelled_at_dispatch_with_the_reason(stack, sqs):
    schedule(stack, "b6")
    JobRecords(table(stack)).update(
        JobRecords(table(stack)).suppression_key("sms", PHONE), "SET suppressed = :yes", {":yes": True}
    )

    assert dispatcher(stack).run().cancelled == {"suppressed": 1}
    assert queued_bodies(sqs, stack) == []
    assert (reminder(stack, "b6")["state"], reminder(stack, "b6")["reason"]) == ("cancelled", "suppressed")
    # And its place in the day's limit is given back
    key = day_key(AddressKeys().of(PHONE), DAY)
    slots = from_item(
        client("dynamodb").get_item(TableName=table(stack), Key=to_attribute_values(key))["Item"]
    )
    assert "b6" not in slots.get("ids", set())


def test_an_all_day_reminder_is_not_sent_once_its_day_is_over(stack, sqs):
    # Given an all-day event's reminder for yesterday, still due (the dispatcher did not run in time)
    schedule(stack, "b10", all_day="2026-11-30", due=NOW - 86_400)
    # When the dispatcher runs / Then it is cancelled as too late, not texted
    assert dispatcher(stack).run().cancelled == {"too_late": 1}
    assert queued_bodies(sqs, stack) == []


def test_the_kill_switch_stops_a_due_reminder_at_dispatch(stack, sqs):
    # Given a due reminder, and reminders paused through the rollout flag's SSM parameter
    schedule(stack, "b9")
    flags = RolloutFlagStore(stack.parameters["RemindersRolloutParameter"], max_age_seconds=0)
    flags.write(RolloutFlag(paused=True))
    # When the dispatcher runs / Then nothing is queued and the reminder is cancelled as paused
    assert dispatcher(stack, rollout=Rollout(flags.read)).run().cancelled == {"paused": 1}
    assert queued_bodies(sqs, stack) == []
    assert (reminder(stack, "b9")["state"], reminder(stack, "b9")["reason"]) == ("cancelled", "paused")


def test_a_number_suppressed_after_dispatch_is_not_texted_and_the_reminder_says_why(
    stack, sqs, sandbox, queues
):
    # Given a queued reminder whose number opts out before the sender takes it
    schedule(stack, "b9")
    dispatcher(stack).run()
    records = JobRecords(table(stack))
    records.update(records.suppression_key("sms", PHONE), "SET suppressed = :yes", {":yes": True})

    # When the sender takes it, then nothing is sent and the reminder is cancelled as suppressed
    assert send_all(sender(stack, sandbox, queues), queued_bodies(sqs, stack)) == ["suppressed"]
    assert texts_at_sandbox(sandbox) == []
    assert (reminder(stack, "b9")["state"], reminder(stack, "b9")["reason"]) == ("cancelled", "suppressed")


def test_transient_failures_retry_after_2_then_4_minutes_and_send_once(
    stack, sqs, sandbox, queues, monkeypatch
):
    # Given the provider answering 503 twice, then accepting
    schedule(stack, "b7")
    dispatcher(stack).run()
    sandbox.ctx.faults.add(FaultRule(path="/2010-04-01/Accounts/", method="POST", status=503, count=2))
    delays: list[int] = []
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: delays.append(seconds))
    service = sender(stack, sandbox, queues)
    (body,) = queued_bodies(sqs, stack)

    # When SQS redelivers it after each failure
    outcomes = redelivered(service, body, times=3)

    # Then the sender asked for 120 s and then 240 s of visibility, and the SMS arrived once
    assert (outcomes, delays) == (["retrying", "retrying", "sent"], [120, 240])
    assert len(texts_at_sandbox(sandbox)) == 1
    assert reminder(stack, "b7")["state"] == "sent"


def test_a_provider_that_always_fails_gets_3_attempts_then_the_reminder_fails_with_its_error(
    stack, sqs, sandbox, queues, monkeypatch
):
    schedule(stack, "b8")
    dispatcher(stack).run()
    sandbox.ctx.faults.add(FaultRule(path="/2010-04-01/Accounts/", method="POST", status=503, count=None))
    monkeypatch.setattr(queues, "retry_later", lambda handle, seconds: None)
    service = sender(stack, sandbox, queues)
    (body,) = queued_bodies(sqs, stack)

    outcomes = redelivered(service, body, times=3)

    assert outcomes == ["retrying", "retrying", "dead_lettered"]
    failed = reminder(stack, "b8")
    assert failed["state"] == "failed" and "503" in failed["error"]
    assert texts_at_sandbox(sandbox) == []


class KilledAfter:
    """The real outbound queue, with the dispatcher's process dying after the k-th SendMessageBatch."""

    def __init__(self, queue: OutboundQueue, batches: int) -> None:
        self.queue, self.left = queue, batches

    def send_batch(self, requests: list[SendRequest]) -> list[SendRequest]:
        accepted = self.queue.send_batch(requests)
        self.left -= 1
        if self.left == 0:
            raise SystemExit("dispatcher killed")  # the batch is on the queue; its claim never happens
        return accepted


def test_a_dispatcher_killed_mid_batch_and_rerun_causes_no_duplicate_sms(stack, sqs, sandbox, queues):
    # Given 25 due reminders and a dispatcher killed right after its 3rd SendMessageBatch, before
    # that page's claim (pages are per shard: the pages before it were enqueued and claimed)
    for n in range(25):
        schedule(stack, f"k{n}")
    killed = KilledAfter(OutboundQueue(stack.queues["OutboundQueue"]), batches=3)
    with pytest.raises(SystemExit):
        dispatcher(stack, outbound=killed).run()
    claimed_before = sum(reminder(stack, f"k{n}")["state"] == "queued" for n in range(25))
    before_kill = queued_bodies(sqs, stack)
    assert len(before_kill) > claimed_before  # some were enqueued but never claimed

    # When it runs again (and once more: a second dispatcher finds nothing left)
    rerun = dispatcher(stack).run()
    assert (rerun.enqueued, dispatcher(stack).run().enqueued) == (25 - claimed_before, 0)

    # Then the unclaimed ones were queued twice, yet each reminder reached the sandbox exactly once
    bodies = before_kill + queued_bodies(sqs, stack)
    assert len(bodies) > 25
    send_all(sender(stack, sandbox, queues), bodies)
    texts = texts_at_sandbox(sandbox)
    assert len(texts) == len(set(texts)) == 25


def send_reminder(stack: Any, sqs: Any, sandbox: Sandbox, queues: RetryQueues, event_id: str) -> None:
    schedule(stack, event_id)
    dispatcher(stack).run()
    assert send_all(sender(stack, sandbox, queues), queued_bodies(sqs, stack)) == ["sent"]


def reply(stack: Any, sqs: Any, body: str, *, after: float, message_id: str = "SMreply1") -> None:
    """An inbound SMS from the reminded number, stored and processed `after` seconds past the send."""
    message = Message(
        provider="twilio",
        provider_message_id=message_id,
        channel="sms",
        occurred_at=datetime.fromtimestamp(NOW + 5 + after, tz=UTC),
        event_type="message.received",
        raw={"Body": body},
        direction="inbound",
        sender=PHONE,
        recipient=BUSINESS,
        body=body,
    )
    store_and_enqueue(
        message,
        EventsTable(table(stack)),
        JobsQueue(stack.queues["ProcessingQueue"]),
        received_at=NOW + 5 + after,
    )
    process_jobs(stack, sqs)


def test_a_sent_reminder_is_remembered_on_its_recipient(stack, sqs, sandbox, queues):
    # When a reminder is sent, then the recipient record names it with its send time
    send_reminder(stack, sqs, sandbox, queues, "r1")
    last = ReminderRatings(table(stack)).last_reminder(PHONE)
    assert last == {"pk": "EVT#calcom#r1", "sent_at": (NOW + 5) * 1000}


def test_a_reply_of_1_to_5_within_a_day_is_the_reminders_rating(stack, sqs, sandbox, queues):
    # Given a sent reminder
    send_reminder(stack, sqs, sandbox, queues, "r2")
    # When the number replies " 4 " an hour later, and then "5"
    reply(stack, sqs, " 4 ", after=3600)
    reply(stack, sqs, "5", after=3700, message_id="SMreply2")
    # Then the first reply is the reminder's rating
    rated = reminder(stack, "r2")
    assert (rated["rating"], rated["rated_at"]) == (4, (NOW + 5 + 3600) * 1000)


def test_a_reply_after_24_hours_or_not_a_rating_is_not_recorded(stack, sqs, sandbox, queues):
    # Given a sent reminder
    send_reminder(stack, sqs, sandbox, queues, "r3")
    # When the number replies "6", "4 stars", then "3" a day and a minute later
    reply(stack, sqs, "6", after=60)
    reply(stack, sqs, "4 stars", after=120, message_id="SMreply2")
    reply(stack, sqs, "3", after=24 * 3600 + 60, message_id="SMreply3")
    # Then the reminder has no rating
    assert "rating" not in reminder(stack, "r3")
