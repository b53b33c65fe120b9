"""bench/reconcile's pieces work: seeding the sandbox's OpenPhone store over 48 h, pre-storing through the
ingest path, one reconciliation run counted by operation. Functional checks only — no timings asserted."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from switchboard_ops.project import ROOT
from switchboard_ops.sandbox import Sandbox

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.reconcile import figures  # noqa: E402
from bench.reconcile.run import customers, reconcile_once, seed  # noqa: E402

MESSAGES, CONVERSATIONS = figures.QUICK["messages"], figures.QUICK["conversations"]


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Sandbox, dict]]:
    # Rate limits lifted: these checks count, they do not time.
    with Sandbox("http://127.0.0.1:9", drop_rate=1.0, openphone_rate=1000.0) as box:
        yield box, seed(box, MESSAGES, CONVERSATIONS)


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_seeding_spreads_the_messages_over_48_hours_without_delivering_webhooks(seeded):
    box, facts = seeded
    listed = box.messages("openphone")
    assert len(listed) == MESSAGES
    assert {message.sender for message in listed} == set(customers(CONVERSATIONS))
    span = max(m.created_at for m in listed) - min(m.created_at for m in listed)
    assert 47 * 3600 < span <= 48 * 3600
    assert box.stats()["webhooks_delivered"] == 0


def test_a_quick_run_backfills_exactly_the_missing_ones_and_batches_the_existence_checks(seeded):
    box, facts = seeded
    outcome = reconcile_once(
        box, facts, scenario="missing_10pct", missing_every=10, rate=1000.0, settle=False
    )
    assert outcome.result["status"] == "completed"
    assert outcome.expected_new == MESSAGES // 10
    assert outcome.stats["new_messages"] == MESSAGES // 10
    assert outcome.stats["existing_messages"] == MESSAGES - MESSAGES // 10
    assert outcome.stats["errors"] == 0
    assert outcome.pages == MESSAGES // 100
    assert outcome.calls["dynamodb.BatchGetItem"] == outcome.pages
    # storing a missing message: its conditional put; a page's jobs go out ten to a SendMessageBatch
    # (each page of 100 holds 10 missing ones: one batch per page)
    assert outcome.store_calls == {"dynamodb.PutItem": MESSAGES // 10, "sqs.SendMessageBatch": outcome.pages}
    assert outcome.overhead_calls / MESSAGES < figures.MAX_CALLS_PER_STORED


def test_a_quick_run_over_stored_messages_stores_nothing_and_stays_under_the_call_budget(seeded):
    box, facts = seeded
    outcome = reconcile_once(box, facts, scenario="all_stored", missing_every=None, rate=1000.0, settle=False)
    assert outcome.stats["new_messages"] == 0
    assert outcome.stats["existing_messages"] == MESSAGES
    assert outcome.store_calls == {}
    assert outcome.total_calls / MESSAGES < figures.MAX_CALLS_PER_STORED
    rows = {figure.key: figure for figure in figures.figures([outcome])}
    assert rows["reconcile.all_stored.calls_per_stored_message"].passed is True
