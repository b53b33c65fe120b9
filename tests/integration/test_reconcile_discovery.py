"""OpenPhone reconciliation that discovers its own conversations: moto (the template's table and queues)
and the sandbox provider in-process over loopback, whose webhooks all drop (drop_rate 1.0), so a message
is stored only when reconciliation lists it. Nothing about the customers is configured."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.dal.events_table import EventsTable
from switchboard.dal.jobs_queue import JobsQueue
from switchboard.dal.reconcile_records import ReconcileRecords
from switchboard.providers.listing import Pacing, RetryPolicy
from switchboard.providers.openphone_listing import list_openphone_conversations, openphone_message
from switchboard.services.ratelimit import TokenBucket
from switchboard.services.reconcile import OpenPhoneSource, Reconciler
from switchboard_ops.sandbox import SANDBOX_NUMBER_A, Sandbox
from switchboard_ops.sandbox.openphone_api import message_json
from switchboard_ops.sandbox.store import StoredMessage

BUSINESS, PHONE_NUMBER_ID = "+14155559876", "PNtoDbDhuz"  # the sandbox's default OpenPhone number
CUSTOMERS = [f"+1415555030{n}" for n in range(5)]
COUNTS = [3, 1, 4, 2, 3]  # messages per customer: 2 a page -> 2, 1, 2, 1, 2 message pages
WINDOW = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _fresh(sandbox: Sandbox) -> None:
    sandbox.reset()


def pacing(bucket_rate: float = 1000.0) -> Pacing:
    return Pacing(
        bucket=TokenBucket(bucket_rate),
        policy=RetryPolicy(max_attempts=4, base_seconds=0.01, cap_seconds=0.05),
        sleep=lambda seconds: None,
    )


def source(sandbox: Sandbox, **kwargs: Any) -> OpenPhoneSource:
    kwargs.setdefault("max_results", 2)
    kwargs.setdefault("pacing", pacing())
    return OpenPhoneSource({"api_key": sandbox.openphone_api_key}, base_url=sandbox.url, **kwargs)


def build(stack: Any, openphone: OpenPhoneSource) -> Reconciler:
    table = stack.tables["EventsTable"]
    return Reconciler(
        sources={"openphone": openphone},
        records=ReconcileRecords(table, sleep=lambda seconds: None),
        store=EventsTable(table),
        jobs=JobsQueue(stack.queues["ProcessingQueue"]),
    )


def converse(sandbox: Sandbox, counts: list[int] = COUNTS) -> None:
    """Customer i texts counts[i] times; customer 0 most recently, so conversations list in order."""
    now = time.time()
    for index, count in enumerate(counts):
        for n in range(count):
            at = now - 60 - index * 100 - n  # whole seconds apart: the lists filter on them
            sandbox.inbound("openphone", CUSTOMERS[index], BUSINESS, f"c{index} m{n}", date=at, wait=False)


def stored(stack: Any, message: StoredMessage) -> bool:
    return EventsTable(stack.tables["EventsTable"]).get(f"EVT#openphone#{message.id}", "MESSAGE") is not None


def low_after(pages: int) -> Callable[[], int]:
    """Plenty of time for `pages` - 1 pages, then under the safety margin."""
    calls = {"n": 0}

    def remaining_ms() -> int:
        calls["n"] += 1
        return 800_000 if calls["n"] < pages else 10_000

    return remaining_ms


# --- the list client through the sandbox -----------------------------------------------------------


def test_conversations_page_through_the_sandbox_newest_activity_first(sandbox):
    converse(sandbox)
    sandbox.inbound("openphone", CUSTOMERS[0], SANDBOX_NUMBER_A, "to the other number", wait=False)
    since = datetime.now(UTC) - WINDOW

    pages = list(
        list_openphone_conversations(
            {"api_key": sandbox.openphone_api_key},
            updated_after=since,
            max_results=2,
            base_url=sandbox.url,
            pacing=pacing(),
        )
    )
    only_ours = list(
        list_openphone_conversations(
            {"api_key": sandbox.openphone_api_key},
            updated_after=since,
            phone_numbers=[PHONE_NUMBER_ID],
            base_url=sandbox.url,
            pacing=pacing(),
        )
    )

    assert [len(found) for found, _ in pages] == [2, 2, 2] and pages[-1][1] is None
    listed = [conversation for found, _ in pages for conversation in found]
    assert listed[0].phone_number_id != PHONE_NUMBER_ID  # the newest: the message to the other number
    assert [conversation.participants for conversation in listed[1:]] == [(number,) for number in CUSTOMERS]
    assert len(only_ours) == 1 and [c.participants[0] for c in only_ours[0][0]] == CUSTOMERS


def test_conversations_not_updated_since_the_window_start_are_not_listed(sandbox):
    sandbox.inbound("openphone", CUSTOMERS[0], BUSINESS, "old", date=time.time() - 7200, wait=False)
    sandbox.inbound("openphone", CUSTOMERS[1], BUSINESS, "recent", date=time.time() - 60, wait=False)
    pages = list(
        list_openphone_conversations(
            {"api_key": sandbox.openphone_api_key},
            updated_after=datetime.now(UTC) - WINDOW,
            base_url=sandbox.url,
            pacing=pacing(),
        )
    )
    assert [[c.participants for c in found] for found, _ in pages] == [[(CUSTOMERS[1],)]]


# --- reconciliation with discovery -----------------------------------------------------------------


def test_discovery_backfills_exactly_the_dropped_messages_and_a_second_run_finds_none(stack, sandbox):
    # Given five customers' conversations, one at another number of the workspace, one conversation
    # older than the window, and every third message already stored by its webhook
    converse(sandbox)
    sandbox.inbound(
        "openphone", CUSTOMERS[2], SANDBOX_NUMBER_A, "elsewhere", date=time.time() - 30, wait=False
    )
    sandbox.inbound("openphone", "+14155550399", BUSINESS, "long ago", date=time.time() - 7200, wait=False)
    in_window = [m for m in sandbox.messages("openphone") if m.body != "long ago"]
    table = EventsTable(stack.tables["EventsTable"])
    arrived = in_window[::3]
    for message in arrived:
        table.store_if_new(openphone_message(message_json(message)), source="webhook")

    # When reconciling with nothing configured but the API key
    result = build(stack, source(sandbox)).run("openphone", WINDOW)

    # Then exactly the dropped messages in the window are stored, over 3 conversation pages
    stats = result["stats"]["openphone"]
    assert result["status"] == "completed" and stats["errors"] == 0
    assert stats["messages_processed"] == len(in_window) == 14
    assert (stats["new_messages"], stats["existing_messages"]) == (14 - len(arrived), len(arrived))
    assert stats["pages"] == 8 + 1  # 8 message pages of the five customers, 1 at the other number
    assert all(stored(stack, message) for message in in_window)
    assert not any(stored(stack, m) for m in sandbox.messages("openphone") if m.body == "long ago")

    again = build(stack, source(sandbox)).run("openphone", WINDOW)
    assert again["totals"]["new_messages"] == 0 and again["totals"]["existing_messages"] == 14


def test_a_phone_number_id_limits_discovery_to_that_number(stack, sandbox):
    converse(sandbox, [2, 1])
    sandbox.inbound("openphone", CUSTOMERS[0], SANDBOX_NUMBER_A, "elsewhere", wait=False)

    result = build(stack, source(sandbox, phone_number_id=PHONE_NUMBER_ID)).run("openphone", WINDOW)

    assert result["stats"]["openphone"]["new_messages"] == 3
    elsewhere = next(m for m in sandbox.messages("openphone") if m.body == "elsewhere")
    assert not stored(stack, elsewhere)


def test_checkpoints_mid_conversation_and_between_conversations_resume_without_repeats(stack, sandbox):
    converse(sandbox)  # pages: c0 1/2, c0 2/2, c1, | c2 1/2, c2 2/2, c3, | c4 1/2, c4 2/2

    first = build(stack, source(sandbox)).run("openphone", WINDOW, remaining_ms=low_after(1))
    # checkpointed in the middle of customer 0's conversation, on the first conversations page
    assert first["status"] == "checkpointed"
    assert first["cursor"]["conversations_token"] is None and first["cursor"]["index"] == 0
    assert first["cursor"]["page_token"] and first["cursor"]["conversation_id"].startswith("CN")

    # a new Reconciler (another invocation) resumes; stops between conversations 1 and 2, which is also
    # between two conversations pages
    second = build(stack, source(sandbox)).run(resume_from=first["checkpoint"], remaining_ms=low_after(2))
    assert second["status"] == "checkpointed" and second["run"] == first["run"]
    assert second["cursor"]["conversations_token"] and second["cursor"]["index"] == 0
    assert second["cursor"]["page_token"] is None and "conversation_id" not in second["cursor"]

    # then in the middle of customer 2's conversation, on the conversations page fetched again
    third = build(stack, source(sandbox)).run(resume_from=second["checkpoint"], remaining_ms=low_after(1))
    assert third["status"] == "checkpointed"
    assert third["cursor"]["conversations_token"] == second["cursor"]["conversations_token"]
    assert third["cursor"]["page_token"]

    last = build(stack, source(sandbox)).run(resume_from=third["checkpoint"])

    stats = last["stats"]["openphone"]
    assert last["status"] == "completed" and last["run"] == first["run"]
    assert stats["pages"] == 8 and stats["new_messages"] == sum(COUNTS) and stats["errors"] == 0
    assert stats["existing_messages"] == 0  # no page was listed twice
    assert all(stored(stack, message) for message in sandbox.messages("openphone"))


def test_conversation_list_429s_and_5xx_are_retried_and_counted(stack, sandbox):
    converse(sandbox, [2, 2])
    sandbox.add_faults({"path": "/v1/conversations", "status": 429, "count": 1})
    sandbox.add_faults({"path": "/v1/conversations", "status": 503, "count": 1})

    stats = build(stack, source(sandbox)).run("openphone", WINDOW)["stats"]["openphone"]

    assert stats["new_messages"] == 4 and stats["errors"] == 0
    assert (stats["retries"], stats["throttled"]) == (2, 1)


class CountingBucket:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> float:
        self.acquired += 1
        return 0.0


def test_every_conversation_and_message_request_takes_a_token_from_the_bucket(stack, sandbox):
    # Given 3 conversations (2 conversation pages) holding 5 message pages
    converse(sandbox, [3, 3, 2])
    bucket = CountingBucket()
    paced = Pacing(bucket=bucket, policy=RetryPolicy(max_attempts=2), sleep=lambda seconds: None)

    stats = build(stack, source(sandbox, pacing=paced)).run("openphone", WINDOW)["stats"]["openphone"]

    assert stats["new_messages"] == 8 and stats["pages"] == 5
    assert bucket.acquired == 2 + 5
