"""The size DynamoDB charges an item against its 400 KB limit, computed by DynamoDB's published rules.

moto does not enforce the limit the way DynamoDB does, so the store path and the tests measure items
with this instead: attribute names and string values in UTF-8 bytes, binary values in bytes, numbers at
one byte per two significant digits plus one, booleans and nulls one byte, lists and maps 3 bytes of
overhead plus one byte per element (the upper end of what AWS documents, so the bound errs safe).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

# DynamoDB's maximum item size: 400 KB, counted in binary kilobytes (409,600 bytes).
DYNAMODB_ITEM_LIMIT = 400 * 1024


def item_size(item: dict[str, Any]) -> int:
    """Bytes of an item in DynamoDB's attribute-value format ({"name": {"S": "..."}, ...})."""
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value (without its name)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "B":
        return len(_bytes(inner))
    if kind == "N":
        return number_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(element) for element in inner)
    if kind == "BS":
        return sum(len(_bytes(element)) for element in inner)
    if kind == "NS":
        return sum(number_size(element) for element in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + _utf8(name) + value_size(element) for name, element in inner.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def number_size(number: str | int | Decimal) -> int:
    """One byte per two significant digits (leading and trailing zeros trimmed), plus one."""
    digits = Decimal(str(number)).normalize().as_tuple().digits
    significant = len(digits) if any(digits) else 1
    return (significant + 1) // 2 + 1


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _bytes(value: Any) -> bytes:
    """boto3's Binary wrapper, raw bytes, or the base64 text of the wire format."""
    raw = getattr(value, "value", value)
    return bytes(raw) if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)
