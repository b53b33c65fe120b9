"""An inbound SMS whose whole text is 1-5, within 24 hours of a reminder sent to that number, is that
reminder's rating (the A/B comparison's satisfaction signal, `switchboard metrics variants`).

Anything else (other text, other channels, no reminder sent, or sent too long ago) is left alone:
the reply goes through the ordinary message pipeline either way.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from switchboard.observability import metrics

RATING = re.compile(r"\s*([1-5])\s*")
WINDOW_MS = 24 * 3600 * 1000


class RatingStore(Protocol):
    def last_reminder(self, phone: str) -> dict[str, Any] | None: ...
    def record_rating(self, reminder_pk: str, rating: int, *, message_pk: str, at_ms: int) -> bool: ...


def rating_of(record: dict[str, Any]) -> int | None:
    """The rating an inbound SMS record carries, or None."""
    if record.get("direction") != "inbound" or record.get("channel") != "sms" or not record.get("sender"):
        return None
    found = RATING.fullmatch(str(record.get("body", "")))
    return int(found.group(1)) if found else None


class ReminderRatingStep:
    def __init__(self, store: RatingStore) -> None:
        self.store = store

    def record(self, record: dict[str, Any], *, now: float) -> dict[str, Any]:
        """The job's annotations: {"reminder_rating": n} when recorded, else nothing."""
        rating = rating_of(record)
        if rating is None:
            return {}
        last = self.store.last_reminder(str(record["sender"]))
        received_ms = int(record.get("received_at") or now * 1000)
        if last is None or not 0 <= received_ms - int(last["sent_at"]) <= WINDOW_MS:
            return {}
        if not self.store.record_rating(
            str(last["pk"]), rating, message_pk=str(record["pk"]), at_ms=received_ms
        ):
            return {}  # already rated (the first reply wins) or this job's retry
        metrics.add_metric(name="ReminderRatings", unit="Count", value=1)
        return {"reminder_rating": rating}
