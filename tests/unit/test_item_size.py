"""DynamoDB's item-size rules (known answers from AWS's published rules) and how a raw payload is fitted
into an item: inline, compressed, or pointed to in S3 under a key without personal data."""

from __future__ import annotations

import random
import string

import pytest

from switchboard.dal.item_size import DYNAMODB_ITEM_LIMIT, item_size, number_size
from switchboard.dal.raw_payloads import (
    ITEM_BUDGET_BYTES,
    RAW_COMPRESSED,
    RAW_OBJECT,
    RAW_TEXT,
    RawPayloads,
    object_key,
)
from switchboard.errors import PayloadTooLarge, StoreUnavailable


def test_a_string_counts_its_name_and_value_in_utf8_bytes():
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"body": {"S": "é😀"}}) == 4 + 2 + 4


def test_a_binary_counts_its_bytes():
    assert item_size({"raw_z": {"B": b"\x00" * 10}}) == 5 + 10


@pytest.mark.parametrize(
    ("number", "size"), [("0", 2), ("7", 2), ("12", 2), ("123", 3), ("1000", 2), ("1733212800000", 5)]
)
def test_a_number_counts_one_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


def test_a_map_and_a_list_add_three_bytes_and_one_per_element():
    assert item_size({"m": {"M": {"a": {"S": "b"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"l": {"L": [{"S": "ab"}, {"BOOL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def test_the_limit_is_400_binary_kilobytes():
    assert DYNAMODB_ITEM_LIMIT == 409_600


def item(raw: str) -> dict[str, object]:
    return {
        "pk": "EVT#instantly#reply_received:c1:ada@example.com:1",
        "sk": "MESSAGE",
        "body": "x",
        RAW_TEXT: raw,
    }


def test_a_small_raw_payload_stays_readable_text_in_the_item():
    attributes, upload = RawPayloads("bucket").fit(item('{"text":"hi"}'))

    assert attributes[RAW_TEXT] == {"S": '{"text":"hi"}'} and upload is None


def test_a_large_compressible_raw_payload_is_compressed_into_the_item():
    raw = '{"html":"' + "<p>quoted thread</p>" * 10_000 + '"}'

    attributes, upload = RawPayloads("bucket").fit(item(raw))

    assert RAW_TEXT not in attributes and RAW_COMPRESSED in attributes and upload is None
    assert RawPayloads().read({RAW_COMPRESSED: attributes[RAW_COMPRESSED]["B"]}) == {"html": raw[9:-2]}


def noise(length: int) -> str:
    return "".join(random.Random(1).choices(string.ascii_letters, k=length))


def test_an_incompressible_raw_payload_over_the_budget_is_pointed_to_in_s3():
    fitted = item('{"text":"' + noise(255 * 1024) + '"}')
    fitted["body"] = noise(255 * 1024)

    attributes, upload = RawPayloads("bucket").fit(fitted)

    assert upload is not None and attributes[RAW_OBJECT] == {"S": f"s3://bucket/{upload.key}"}
    assert item_size(attributes) <= ITEM_BUDGET_BYTES


def test_the_s3_key_is_a_hash_without_personal_data():
    key = object_key("EVT#instantly#reply_received:c1:ada@example.com:1", "MESSAGE")

    assert key.startswith("raw/") and "ada" not in key and "@" not in key
    assert key == object_key("EVT#instantly#reply_received:c1:ada@example.com:1", "MESSAGE")


def test_an_oversized_payload_without_a_bucket_is_a_store_failure_not_a_lost_write():
    fitted = item('{"text":"' + noise(255 * 1024) + '"}')
    fitted["body"] = noise(255 * 1024)

    with pytest.raises(StoreUnavailable):
        RawPayloads("").fit(fitted)


def test_fields_alone_over_the_budget_are_refused_before_anything_is_written():
    fitted = item('{"text":"' + noise(20_000) + '"}')
    fitted["body"] = noise(ITEM_BUDGET_BYTES)

    with pytest.raises(PayloadTooLarge):
        RawPayloads("bucket").fit(fitted)
