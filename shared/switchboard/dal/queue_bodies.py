"""What SQS accepts in a message. It refuses the whole send when a body or a String attribute holds a
character outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF: U+FFFE, U+FFFF and the
C0 controls, which a webhook's id or a person's text can carry and DynamoDB stores without complaint. So
every body the dal sends is JSON with everything but ASCII escaped, and every attribute has those
characters replaced (an attribute only describes; the body carries the data, exactly)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

_REFUSED_BY_SQS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def json_body(message: BaseModel) -> str:
    """The model as an SQS body: every non-ASCII character as a JSON escape, which any JSON parser reads
    back to the same text."""
    return message.model_dump_json(ensure_ascii=True)


def attribute_text(text: str) -> str:
    """A String attribute's value SQS accepts: each character it refuses replaced by U+FFFD."""
    return _REFUSED_BY_SQS.sub("\ufffd", text)
