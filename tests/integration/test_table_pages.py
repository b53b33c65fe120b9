"""Table.pages and Table.items against moto: a Query or Scan is read to its end, past a Limit and past
DynamoDB's 1 MB page, through `call` (so a failure is StoreUnavailable like every other read)."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.dal.events_table import EventsTable
from switchboard.dal.items import to_attribute_values
from switchboard.dal.table import Table
from switchboard.errors import StoreUnavailable

PARTITION = to_attribute_values({":pk": "P"})
NEARLY_400_KB = "x" * 390_000  # three such items pass DynamoDB's (and moto's) 1 MB page


@pytest.fixture
def table(stack: Any, dynamodb: Any) -> str:
    name = stack.tables["EventsTable"]
    for n in range(5):
        item = {"pk": "P", "sk": f"S{n}", "n": n, "filler": NEARLY_400_KB}
        dynamodb.put_item(TableName=name, Item=to_attribute_values(item))
    return name


def test_a_query_over_one_megabyte_comes_back_whole_in_several_pages(table, dynamodb):
    reader = Table(table, dynamodb=dynamodb)
    request = {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": PARTITION}

    pages = list(reader.pages("query", **request))
    items = list(reader.items("query", **request))

    assert len(pages) >= 2
    assert [item["n"] for item in items] == [0, 1, 2, 3, 4]


def test_a_limit_is_a_page_size_not_the_end(table, dynamodb):
    reader = Table(table, dynamodb=dynamodb)

    counts = [page["Count"] for page in reader.pages("scan", Select="COUNT", Limit=2)]

    assert sum(counts) == 5 and len(counts) >= 3


def test_a_whole_partition_is_read_past_the_page(table, dynamodb):
    stored = EventsTable(table, dynamodb=dynamodb).query_partition("P")

    assert [item["sk"] for item in stored] == [f"S{n}" for n in range(5)]


def test_a_failed_page_is_store_unavailable(stack, dynamodb):
    reader = Table("no-such-table", dynamodb=dynamodb)

    with pytest.raises(StoreUnavailable):
        list(reader.items("scan"))
