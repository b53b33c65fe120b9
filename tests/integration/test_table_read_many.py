"""Table.read_many against moto: BatchGetItem's UnprocessedKeys (DynamoDB's answer under throttling,
which moto never gives) are asked again after a pause, and a table that keeps refusing raises."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.dal.items import to_attribute_values
from switchboard.dal.table import Table
from switchboard.errors import StoreUnavailable


class Throttling:
    """The real (moto) client, except that its first `times` BatchGetItem answers leave the last key
    unprocessed, as DynamoDB does when it throttles."""

    def __init__(self, client: Any, times: int) -> None:
        self.client, self.times = client, times

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's name
        if self.times == 0:
            return self.client.batch_get_item(RequestItems=RequestItems)
        self.times -= 1
        [(table, request)] = RequestItems.items()
        *served, held = request["Keys"]
        response = (
            self.client.batch_get_item(RequestItems={table: {**request, "Keys": served}})
            if served
            else {"Responses": {table: []}}
        )
        return {**response, "UnprocessedKeys": {table: {**request, "Keys": [held]}}}


@pytest.fixture
def table(stack: Any, dynamodb: Any) -> str:
    name = stack.tables["EventsTable"]
    for n in range(3):
        dynamodb.put_item(TableName=name, Item=to_attribute_values({"pk": f"P{n}", "sk": "S", "n": n}))
    return name


KEYS = [{"pk": f"P{n}", "sk": "S"} for n in range(3)]


def test_unprocessed_keys_are_read_again_after_a_pause(table, dynamodb):
    pauses: list[float] = []
    reader = Table(table, dynamodb=Throttling(dynamodb, times=2))

    found = reader.read_many(KEYS, sleep=pauses.append)

    assert sorted(item["n"] for item in found.values()) == [0, 1, 2]
    assert len(pauses) == 2 and pauses[0] < pauses[1]  # exponential


def test_a_table_that_keeps_refusing_raises_store_unavailable(table, dynamodb):
    reader = Table(table, dynamodb=Throttling(dynamodb, times=10))

    with pytest.raises(StoreUnavailable):
        reader.read_many(KEYS, rounds=3, sleep=lambda seconds: None)


def test_a_projection_reads_only_the_keys(table, dynamodb):
    found = Table(table, dynamodb=dynamodb).read_many(KEYS, projection="pk, sk")

    assert found[("P1", "S")] == {"pk": "P1", "sk": "S"}
