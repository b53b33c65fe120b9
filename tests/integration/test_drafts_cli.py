"""`switchboard drafts list|approve|reject` against moto: conditional transitions, and approval enqueues
the reply through enqueue_draft (the same send key however often it is approved)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_worker import SMS_PK, ingest_sample, record, run_worker_once  # same directory: on sys.path

from switchboard.models.drafts import draft_send_key
from switchboard_ops.cli import drafts
from switchboard_ops.cli.main import main
from switchboard_ops.cli.target import Target
from switchboard_ops.local.sqs_events import receive_batch


@pytest.fixture
def pending(stack, sqs, monkeypatch, lambda_context) -> str:
    """A positive SMS reply processed with auto-send off: its draft waits for review."""
    ingest_sample("twilio_inbound_sms", lambda_context)
    run_worker_once(sqs, stack, lambda_context)
    target = Target(
        name="test",
        region="us-east-1",
        table_name=stack.tables["EventsTable"],
        queues={"OutboundQueue": stack.queues["OutboundQueue"]},
    )
    monkeypatch.setattr(drafts, "resolve", lambda args: target)
    return SMS_PK


def requests(sqs: Any, stack: Any) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in receive_batch(sqs, stack.queues["OutboundQueue"])]


def test_drafts_list_shows_the_pending_draft(pending, capsys):
    assert main(["drafts", "list", "--state", "pending_review", "--json"]) == 0
    [draft] = json.loads(capsys.readouterr().out)
    assert (draft["pk"], draft["status"], draft["variant"]) == (pending, "pending_review", "template")


def test_approving_a_pending_draft_enqueues_its_reply(pending, stack, dynamodb, sqs):
    # When an operator approves the draft
    assert main(["drafts", "approve", pending]) == 0
    # Then it is approved by the operator and its reply is on the outbound queue, keyed on the draft
    draft = record(dynamodb, stack, pending, "DRAFT")
    assert (draft["status"], draft["approved_by"]) == ("approved", "operator")
    [request] = requests(sqs, stack)
    assert (request["send_key"], request["purpose"], request["body"]) == (
        draft_send_key(pending),
        "auto_reply",
        draft["text"],
    )


def test_approving_twice_enqueues_the_same_send_key(pending, stack, sqs):
    # Given an approved draft whose enqueue an operator repeats
    main(["drafts", "approve", pending])
    main(["drafts", "approve", pending])
    # Then both requests carry the one key: the sender sends it at most once
    assert {request["send_key"] for request in requests(sqs, stack)} == {draft_send_key(pending)}


def test_a_rejected_draft_cannot_be_approved(pending, stack, dynamodb, sqs, capsys):
    # Given a rejected draft
    assert main(["drafts", "reject", pending, "--reason", "wrong tone"]) == 0
    assert record(dynamodb, stack, pending, "DRAFT")["reject_reason"] == "wrong tone"
    # When an operator approves it / Then it is refused with its state, and nothing is enqueued
    assert main(["drafts", "approve", pending]) != 0
    assert "is rejected" in capsys.readouterr().err
    assert requests(sqs, stack) == []


def test_a_sent_draft_cannot_be_rejected_or_approved(pending, stack, dynamodb, capsys):
    # Given a draft the sender marked sent
    dynamodb.update_item(
        TableName=stack.tables["EventsTable"],
        Key={"pk": {"S": pending}, "sk": {"S": "DRAFT"}},
        UpdateExpression="SET #s = :sent",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sent": {"S": "sent"}},
    )
    # When / Then both moves are refused
    assert main(["drafts", "approve", pending]) != 0
    assert main(["drafts", "reject", pending]) != 0
    assert capsys.readouterr().err.count("is sent") == 2


def test_an_unknown_draft_is_reported(pending, capsys):
    # exit 1, as every command's "not found" (messages get, reminders get, recipients get, dlq redrive);
    # 2 is a usage error
    assert main(["drafts", "approve", "EVT#twilio#SMnope"]) == 1
    assert main(["drafts", "reject", "EVT#twilio#SMnope", "--json"]) == 1
    assert capsys.readouterr().err.count("no draft") == 2
