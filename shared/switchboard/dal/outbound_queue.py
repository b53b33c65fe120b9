"""The outbound queue as the worker and the CLI use it: one send request per message."""

from __future__ import annotations

from typing import Any

from switchboard.dal.notifications import send_message


class OutboundQueue:
    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    def send_request(self, request: Any) -> None:
        """`request`: a pydantic send request (SMS, or a channel's reply)."""
        send_message(self.queue_url, request.model_dump_json(), sqs=self._sqs)
