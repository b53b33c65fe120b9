"""Where an event's raw payload is kept, so that every payload the API accepts (256 KiB) is storable.

A stored event carries the canonical fields (the message text among them) and the raw payload for audit,
so a large payload would be stored twice and pass DynamoDB's 400 KB item limit. The raw payload goes:
- inline as JSON text (`raw`) when it is small: the common webhook, still one PutItem, readable as is;
- zlib-compressed (`raw_z`, binary) when it is larger but the item still fits the budget (HTML e-mails
  compress well), still one PutItem;
- to S3 (`raw_s3`, an s3:// pointer) only when even that does not fit: PutObject before the PutItem, so
  a stored pointer never dangles. The object key is a hash of the item key: no personal data in it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from switchboard.dal.aws import InjectedClient
from switchboard.dal.failures import error_code, translated
from switchboard.dal.item_size import DYNAMODB_ITEM_LIMIT, item_size
from switchboard.dal.items import to_attribute_values
from switchboard.errors import PayloadTooLarge, StoreUnavailable

RAW_TEXT = "raw"
RAW_COMPRESSED = "raw_z"
RAW_OBJECT = "raw_s3"
# Above this the raw JSON is compressed: below it compression saves less than it costs.
RAW_INLINE_BYTES = 16 * 1024
# The stored item's bound; the rest of DynamoDB's limit is headroom for what the worker adds later.
ITEM_BUDGET_BYTES = DYNAMODB_ITEM_LIMIT - 100 * 1024
OBJECT_PREFIX = "raw/"


def object_key(pk: str, sk: str) -> str:
    """The S3 key of an item's raw payload: a hash of the item key, so no phone number or e-mail in it."""
    digest = hashlib.sha256("\n".join((pk, sk)).encode()).hexdigest()
    return f"{OBJECT_PREFIX}{digest}.json"


@dataclass(frozen=True)
class Upload:
    """A raw payload to put in S3 before its item is written."""

    key: str
    body: bytes


class RawPayloads:
    """The raw-payload bucket: fits an item to the budget on the way in, gives the payload back on reads."""

    s3 = InjectedClient("s3")

    def __init__(self, bucket: str = "", s3: Any = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    def fit(self, item: dict[str, Any]) -> tuple[dict[str, Any], Upload | None]:
        """The item (plain values, `raw` as JSON text) in attribute values within the budget, and the
        object to upload first (None: the item holds its raw payload itself)."""
        data = str(item[RAW_TEXT]).encode("utf-8")
        if len(data) <= RAW_INLINE_BYTES:
            return to_attribute_values(item), None
        rest = {name: value for name, value in item.items() if name != RAW_TEXT}
        compressed = to_attribute_values({**rest, RAW_COMPRESSED: zlib.compress(data)})
        if item_size(compressed) <= ITEM_BUDGET_BYTES:
            return compressed, None
        key = object_key(str(item["pk"]), str(item["sk"]))
        pointed = to_attribute_values({**rest, RAW_OBJECT: f"s3://{self.bucket}/{key}"})
        if item_size(pointed) > ITEM_BUDGET_BYTES:
            # Unreachable for a payload under the API's body limit (its fields are parts of it); a
            # clear refusal, before anything is written, rather than DynamoDB's error on every retry.
            raise PayloadTooLarge(f"the event's fields alone exceed {ITEM_BUDGET_BYTES} bytes")
        if not self.bucket:
            raise StoreUnavailable("an oversized raw payload needs RAW_PAYLOAD_BUCKET, which is not set")
        return pointed, Upload(key, data)

    def put(self, upload: Upload) -> None:
        with translated(StoreUnavailable, "S3 put_object"):
            self.s3.put_object(
                Bucket=self.bucket, Key=upload.key, Body=upload.body, ContentType="application/json"
            )

    def read(self, item: dict[str, Any]) -> Any:
        """The original raw payload of a stored item (plain values), wherever it is kept; None if none."""
        if RAW_TEXT in item:
            return json.loads(item[RAW_TEXT])
        if RAW_COMPRESSED in item:
            # boto3 reads binary attributes as its Binary wrapper; its bytes are in `.value`.
            return json.loads(zlib.decompress(getattr(item[RAW_COMPRESSED], "value", item[RAW_COMPRESSED])))
        if RAW_OBJECT in item:
            bucket, _, key = str(item[RAW_OBJECT]).removeprefix("s3://").partition("/")
            with translated(StoreUnavailable, "S3 get_object"):
                try:
                    body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                except ClientError as exc:
                    if error_code(exc) == "NoSuchKey":
                        return None  # expired by the bucket's lifecycle rule (RawPayloadRetentionDays)
                    raise
            return json.loads(body)
        return None

    def restore(self, item: dict[str, Any]) -> dict[str, Any]:
        """The stored item with `raw` as the JSON text a small item holds, wherever it was kept (None once
        expired); the S3 pointer stays for operators, the compressed bytes go."""
        if RAW_TEXT in item or not ({RAW_COMPRESSED, RAW_OBJECT} & item.keys()):
            return item
        raw = self.read(item)
        restored = {name: value for name, value in item.items() if name != RAW_COMPRESSED}
        restored[RAW_TEXT] = (
            None if raw is None else json.dumps(raw, separators=(",", ":"), ensure_ascii=False)
        )
        return restored
