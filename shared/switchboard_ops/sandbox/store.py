"""In-memory provider state, safe across the server's request threads and the delivery thread:
messages (both providers), the opt-out list and the counters behind `GET /sandbox/stats`."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

INBOUND, OUTBOUND = "inbound", "outbound"

STAT_NAMES = (
    "received",  # inbound messages the providers "received" (POST /sandbox/inbound, and loop-backs)
    "looped_back",  # of those: sends delivered to a number the sandbox owns (the canary's way back)
    "sent",  # outbound messages the send APIs accepted
    "rejected",  # sends refused with a 4xx (21610, 21211, bad input)
    "webhooks_delivered",  # inbound webhooks answered 2xx
    "webhooks_failed",  # inbound webhooks that failed after the retry
    "dropped",  # webhooks and callbacks dropped on purpose (drop_rate / callback_drop_rate)
    "callbacks",  # status callbacks (Twilio) and message.delivered webhooks (OpenPhone) answered 2xx
    "callbacks_failed",
    "retries",  # second attempts after a connection error or a 5xx
    "rate_limited",  # 429s answered
    "faults",  # requests a fault rule answered (or delayed, or hung up on)
    "replies",  # replies the reply APIs (GHL, SmartLead, Instantly, Unipile) accepted
)


@dataclass(frozen=True)
class MediaItem:
    url: str
    content_type: str | None = None


@dataclass(frozen=True)
class StoredMessage:
    provider: str  # "twilio" | "openphone"
    id: str  # SM.../MM... (Twilio) or AC... (OpenPhone)
    seq: int  # arrival order: the tie-breaker that keeps paging stable
    direction: str  # INBOUND | OUTBOUND
    sender: str
    recipients: tuple[str, ...]
    body: str
    status: str
    created_at: float  # Unix seconds
    updated_at: float
    account: str  # Twilio account sid, OpenPhone phoneNumberId
    media: tuple[MediaItem, ...] = ()
    sent_at: float | None = None
    error_code: str | None = None
    status_callback: str | None = None
    user_id: str | None = None
    conversation_id: str | None = None

    @property
    def recipient(self) -> str:
        return self.recipients[0] if self.recipients else ""

    @property
    def counterparts(self) -> frozenset[str]:
        """The other side of the conversation, seen from the business number."""
        if self.direction == OUTBOUND:
            return frozenset(self.recipients)
        return frozenset({self.sender})


class Store:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: dict[tuple[str, str], StoredMessage] = {}
        self._seq = 0
        self._opt_outs: set[tuple[str, str]] = set()  # (business number, customer number)
        self._stats: Counter[str] = Counter()
        self._replies: list[dict[str, Any]] = []  # what the reply APIs accepted, in arrival order
        self._slack: list[str] = []  # texts the Slack incoming webhook received

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def add(self, message: StoredMessage) -> StoredMessage:
        with self._lock:
            self._messages[(message.provider, message.id)] = message
        return message

    def get(self, provider: str, message_id: str) -> StoredMessage | None:
        with self._lock:
            return self._messages.get((provider, message_id))

    def update(self, provider: str, message_id: str, **changes: Any) -> StoredMessage | None:
        with self._lock:
            current = self._messages.get((provider, message_id))
            if current is None:
                return None
            updated = dataclasses.replace(current, **changes)
            self._messages[(provider, message_id)] = updated
            return updated

    def messages(self, provider: str | None = None) -> list[StoredMessage]:
        """A snapshot in arrival order."""
        with self._lock:
            found = [m for m in self._messages.values() if provider is None or m.provider == provider]
        return sorted(found, key=lambda message: message.seq)

    def add_reply(self, reply: dict[str, Any]) -> None:
        with self._lock:
            self._replies.append(reply)
            self._stats["replies"] += 1

    def replies(self, provider: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._replies if provider is None or r["provider"] == provider]

    def set_opt_out(self, business: str, customer: str, opted_out: bool = True) -> None:
        with self._lock:
            if opted_out:
                self._opt_outs.add((business, customer))
            else:
                self._opt_outs.discard((business, customer))

    def is_opted_out(self, business: str, customer: str) -> bool:
        with self._lock:
            return (business, customer) in self._opt_outs

    def opt_outs(self) -> list[dict[str, str]]:
        with self._lock:
            return [{"from": business, "to": customer} for business, customer in sorted(self._opt_outs)]

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._stats[name] += amount

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = {name: self._stats[name] for name in STAT_NAMES}
            counts.update({name: value for name, value in self._stats.items() if name not in counts})
            counts["messages"] = len(self._messages)
            return counts

    def record_slack(self, text: str) -> None:
        with self._lock:
            self._slack.append(text)

    def slack(self) -> list[str]:
        with self._lock:
            return list(self._slack)

    def clear(self) -> None:
        with self._lock:
            self._slack.clear()
            self._messages.clear()
            self._replies.clear()
            self._opt_outs.clear()
            self._stats.clear()
