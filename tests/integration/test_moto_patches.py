"""switchboard_ops.local.moto_patches against moto in-process: the corrections change what moto's operations
cost, never what they store or report - also with several threads at once, as in the local stack's moto
server. Functional checks only; no timings are asserted."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from switchboard_ops.local.moto_patches import (
    constant_time_sends,
    index_queries_read_the_index,
    per_item_rollback,
)

TABLE = "patched"


def create_table(attributes: dict[str, str] | None = None, **extra: Any) -> Any:
    """The pk/sk table `TABLE` in the active mock_aws, with more attribute definitions and settings."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in {"pk": "S", "sk": "S", **(attributes or {})}.items()
        ],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )
    return client


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield create_table()


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "1"}}


def put(dynamodb: Any, pk: str, n: int) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**key(pk), "n": {"N": str(n)}})


def everything(dynamodb: Any) -> dict[str, dict[str, Any]]:
    items = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {entry["pk"]["S"]: entry for entry in items}


def add(pk: str, amount: int = 1) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(pk),
            "UpdateExpression": "ADD n :amount",
            "ExpressionAttributeValues": {":amount": {"N": str(amount)}},
        }
    }


def check(pk: str, expression: str) -> dict[str, Any]:
    return {"ConditionCheck": {"TableName": TABLE, "Key": key(pk), "ConditionExpression": expression}}


def test_a_cancelled_transaction_leaves_every_item_as_it_was_and_a_successful_one_applies(dynamodb):
    for pk in ("A", "C", "gate", "untouched-1", "untouched-2"):
        put(dynamodb, pk, 1)
    before = everything(dynamodb)
    actions = [
        add("A"),  # an existing item, updated inside the transaction
        {"Put": {"TableName": TABLE, "Item": {**key("B"), "n": {"N": "7"}}}},  # a new one, put inside it
        {"Delete": {"TableName": TABLE, "Key": key("C")}},  # an existing one, deleted inside it
        check("gate", "attribute_exists(pk)"),  # passes
    ]

    with per_item_rollback():
        with pytest.raises(ClientError) as cancelled:
            dynamodb.transact_write_items(
                TransactItems=[*actions[:3], check("gate", "attribute_not_exists(pk)")]
            )
        assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert everything(dynamodb) == before  # the named items restored, the others untouched

        dynamodb.transact_write_items(TransactItems=actions)  # without the failing check: commits

    after = everything(dynamodb)
    assert after["A"]["n"] == {"N": "2"}
    assert after["B"]["n"] == {"N": "7"}
    assert "C" not in after
    assert {pk: after[pk] for pk in ("untouched-1", "untouched-2")} == {
        pk: before[pk] for pk in ("untouched-1", "untouched-2")
    }


def test_a_rejected_transaction_is_rolled_back_too(dynamodb):
    put(dynamodb, "A", 1)
    before = everything(dynamodb)

    with per_item_rollback(), pytest.raises(ClientError) as rejected:
        dynamodb.transact_write_items(
            TransactItems=[add("A"), add("A")]
        )  # one item twice: a validation error

    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    assert everything(dynamodb) == before


def test_concurrent_transactions_and_writes_lose_nothing_and_leak_nothing(dynamodb):
    """Two threads of transactions - one always cancelled, one always committed - plus a thread of plain
    UpdateItems, all on items the cancelled transactions name. A cancelled transaction must neither leave a
    write behind nor, when rolling back, undo a write another thread made meanwhile."""
    rounds, width = 40, 20
    for pk in ("shared", "committed", *(f"cancelled-{i}" for i in range(width))):
        put(dynamodb, pk, 0)
    put(dynamodb, "blocker", 0)
    cancelled_transaction = [
        *(add(f"cancelled-{i}") for i in range(width)),
        check("shared", "attribute_exists(pk)"),
        check("committed", "attribute_exists(pk)"),
        check("blocker", "attribute_not_exists(pk)"),  # always fails
    ]
    failures: list[BaseException] = []
    outcomes = {"cancelled": 0, "committed": 0, "updated": 0}

    def run(name: str, call: Any) -> None:
        try:
            for _ in range(rounds):
                try:
                    call()
                except ClientError as error:
                    if error.response["Error"]["Code"] != "TransactionCanceledException":
                        raise
                    outcomes["cancelled"] += 1
                else:
                    outcomes[name] += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    calls = {
        "cancelled": lambda: dynamodb.transact_write_items(TransactItems=cancelled_transaction),
        "committed": lambda: dynamodb.transact_write_items(TransactItems=[add("committed"), add("shared")]),
        "updated": lambda: dynamodb.update_item(
            TableName=TABLE,
            Key=key("shared"),
            UpdateExpression="ADD n :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
    }
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: interleavings that would lose writes become likely
    try:
        with per_item_rollback():
            threads = [threading.Thread(target=run, args=(name, call)) for name, call in calls.items()]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert failures == []
    assert outcomes == {"cancelled": rounds, "committed": rounds, "updated": rounds}
    stored = {pk: int(entry["n"]["N"]) for pk, entry in everything(dynamodb).items()}
    assert stored == {
        "shared": 2 * rounds,  # every committed transaction's and every UpdateItem's increment
        "committed": rounds,
        "blocker": 0,
        **{f"cancelled-{i}": 0 for i in range(width)},  # no cancelled transaction's write left behind
    }


def test_sends_cost_less_but_the_queue_reports_its_true_depth():
    from moto.sqs.models import Queue

    original = Queue.approximate_number_of_messages
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="patched")["QueueUrl"]
        with constant_time_sends():
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(10)]
            )
            sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
            depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert (depth["ApproximateNumberOfMessages"], depth["ApproximateNumberOfMessagesDelayed"]) == (
                "10",
                "1",
            )
            assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]) == 10
            depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            assert (depth["ApproximateNumberOfMessages"], depth["ApproximateNumberOfMessagesNotVisible"]) == (
                "0",
                "10",
            )
    assert Queue.approximate_number_of_messages is original  # restored


def test_content_based_deduplication_still_applies_under_the_send_patch():
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(
            QueueName="patched.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        with constant_time_sends():
            for _ in range(3):
                sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
            depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert depth["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_an_index_query_answers_the_same_with_the_patch_and_leaves_table_queries_alone():
    from moto.dynamodb.models.table import Table

    original = Table.all_items
    with mock_aws():
        client = create_table(
            {"shard": "S", "at": "N"},
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "Sparse",
                    "KeySchema": [
                        {"AttributeName": "shard", "KeyType": "HASH"},
                        {"AttributeName": "at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        # Given a table where only some items carry the sparse index's keys (one of them only half)
        for n in range(30):
            item = {"pk": {"S": f"p{n % 7}"}, "sk": {"S": f"{n:02d}"}, "at": {"N": str(n)}}
            if n % 3 == 0:
                item["shard"] = {"S": f"S{n % 2}"}
            client.put_item(TableName=TABLE, Item=item)
        client.put_item(TableName=TABLE, Item={"pk": {"S": "half"}, "sk": {"S": "x"}, "shard": {"S": "S0"}})

        def queries() -> list[Any]:
            return [
                client.query(
                    TableName=TABLE,
                    IndexName="Sparse",
                    KeyConditionExpression="shard = :s AND #at < :cut",
                    ExpressionAttributeNames={"#at": "at"},
                    ExpressionAttributeValues={":s": {"S": "S0"}, ":cut": {"N": "25"}},
                    ScanIndexForward=False,
                )["Items"],
                client.query(
                    TableName=TABLE,
                    IndexName="Sparse",
                    KeyConditionExpression="shard = :s",
                    ExpressionAttributeValues={":s": {"S": "S1"}},
                    Limit=2,
                )["Items"],
                client.query(
                    TableName=TABLE,
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": "p3"}},
                )["Items"],
            ]

        # When the same queries run as shipped and under the patch
        as_shipped = queries()
        with index_queries_read_the_index():
            corrected = queries()
            scanned = client.scan(TableName=TABLE)["Count"]

        # Then they answer exactly the same, in the same order; a scan still sees every item
        assert corrected == as_shipped
        assert [int(item["at"]["N"]) for item in as_shipped[0]] == [24, 18, 12, 6, 0]
        assert len(as_shipped[1]) == 2 and len(as_shipped[2]) == 4
        assert scanned == 31
    assert Table.all_items is original  # restored
