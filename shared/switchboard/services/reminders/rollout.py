"""Whether a recipient may get reminders now: the rollout flag's modes and its kill switch.

The worker asks before scheduling (a refused reminder is cancelled with reason `rollout` or `paused`)
and the dispatcher asks again before sending, so a pause stops both at once. The percentage is
deterministic per recipient: a hash of its AddressKeys id (never the number) picks its bucket 0-99,
so raising the percentage only ever adds recipients.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from switchboard.models.rollout import RolloutFlag, RolloutMode

ROLLOUT = "rollout"  # reason: the recipient is outside the rollout
PAUSED = "paused"  # reason: the kill switch is on

_WIDER_THAN = {
    RolloutMode.OFF: 0,
    RolloutMode.INTERNAL: 1,
    RolloutMode.BETA: 2,
    RolloutMode.PERCENTAGE: 3,
    RolloutMode.ON: 4,
}


def keyed_bucket(purpose: str, recipient_id: str, buckets: int) -> int:
    """A recipient's stable place 0..buckets-1 for one purpose: the purpose salts the hash, so a
    recipient's rollout bucket says nothing about its A/B arms (and the reverse)."""
    return int(hashlib.sha256(f"{purpose}:{recipient_id}".encode()).hexdigest()[:8], 16) % buckets


def bucket(recipient_id: str) -> int:
    """The recipient's stable place 0-99 in a percentage rollout."""
    return keyed_bucket("rollout", recipient_id, 100)


def refusal(flag: RolloutFlag, recipient_id: str) -> str | None:
    """Why this recipient gets no reminder under the flag (`paused` / `rollout`), or None: allowed."""
    if flag.paused:
        return PAUSED
    level = _WIDER_THAN[flag.mode]
    allowed = (
        level >= _WIDER_THAN[RolloutMode.ON]
        or (level >= _WIDER_THAN[RolloutMode.INTERNAL] and recipient_id in flag.internal)
        or (level >= _WIDER_THAN[RolloutMode.BETA] and recipient_id in flag.beta)
        or (level >= _WIDER_THAN[RolloutMode.PERCENTAGE] and bucket(recipient_id) < flag.percent)
    )
    return None if allowed else ROLLOUT


class Rollout:
    """The flag as read now (cached by the store) applied to one recipient."""

    def __init__(self, flag: Callable[[], RolloutFlag]) -> None:
        self.flag = flag

    def refusal(self, recipient_id: str) -> str | None:
        return refusal(self.flag(), recipient_id)

    def reminders_allowed(self, recipient_id: str) -> bool:
        """The dispatcher's check before it enqueues a reminder (the item's `recipient` field)."""
        return self.refusal(recipient_id) is None


ALWAYS = Rollout(RolloutFlag)  # no flag configured: every recipient, never paused
