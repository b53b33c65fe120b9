"""What SQS refuses and moto 5 accepts: characters outside SQS's set, and a message over the queue's size.

SQS takes only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message body and in
a String message attribute, and refuses the whole SendMessage with InvalidMessageContents otherwise
(U+FFFE, U+FFFF, NUL and the other C0 controls pass through a JSON encoder that does not escape them).
It counts a message's size in UTF-8 bytes, body and attributes (name, type and value) together; moto counts
the body's characters only. `sqs_rules()` makes moto's SQS refuse both, with SQS's own error codes, for as
long as it is active: the integration tests' moto and the local stack enter it, so a send the product
builds that AWS would refuse fails there too. It patches moto's classes only; product code is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

# Everything outside the set SQS documents for message contents.
_REFUSED = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def refused_character(text: str) -> str | None:
    """The first character SQS refuses in a body or a String attribute, as U+XXXX; None when all pass."""
    match = _REFUSED.search(text)
    return None if match is None else f"U+{ord(match.group()):04X}"


def message_bytes(body: str, attributes: dict[str, Any] | None) -> int:
    """The size SQS counts against MaximumMessageSize: the body and every attribute's name, type and value."""
    size = len(body.encode("utf-8", "surrogatepass"))
    for name, attribute in (attributes or {}).items():
        value = attribute.get("StringValue") or attribute.get("BinaryValue") or ""
        encoded = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
        size += len(name.encode()) + len(str(attribute.get("DataType", "")).encode()) + len(encoded)
    return size


def _check(queue: Any, body: str, attributes: dict[str, Any] | None) -> None:
    from moto.sqs.exceptions import InvalidParameterValue, SQSException

    texts = [body, *(str(value.get("StringValue", "")) for value in (attributes or {}).values())]
    refused = next(filter(None, map(refused_character, texts)), None)
    if refused is not None:
        raise SQSException(
            "InvalidMessageContents",
            f"Invalid characters found ({refused}). Valid unicode characters are #x9 | #xA | #xD | "
            "#x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    limit = int(queue.maximum_message_size)
    if message_bytes(body, attributes) > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )


@contextmanager
def sqs_rules() -> Iterator[None]:
    from moto.sqs.models import SQSBackend

    send_message = SQSBackend.send_message
    send_message_batch = SQSBackend.send_message_batch

    def checked_send(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        _check(self.get_queue(queue_name), message_body, kwargs.get("message_attributes"))
        return send_message(self, queue_name, message_body, *args, **kwargs)

    def checked_batch(self: Any, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        queue = self.get_queue(queue_name)
        for entry in entries.values():  # SQS refuses the request, as moto does for its own checks
            _check(queue, entry["MessageBody"], entry.get("MessageAttributes"))
        return send_message_batch(self, queue_name, entries)

    with (
        patch.object(SQSBackend, "send_message", checked_send),
        patch.object(SQSBackend, "send_message_batch", checked_batch),
    ):
        yield
