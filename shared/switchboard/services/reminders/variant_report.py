"""`switchboard metrics variants`: delivery, opt-out and rating per A/B arm, from the reminder records.

Each reminder counts once in its text arm (the text actually sent) and once in its lead arm. An
opt-out is a reminded number suppressed at or after that reminder was sent (the suppression record
keeps only the latest change, so an opt-in since hides an earlier opt-out: a lower bound).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from switchboard.services.reminders.delivery import instant_ms
from switchboard.services.reminders.stats import opted_out_after


@dataclass
class ArmCounts:
    dimension: str
    arm: str
    reminders: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    opt_outs: int = 0
    ratings: int = 0
    rating_total: int = 0

    def row(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "arm": self.arm,
            "reminders": self.reminders,
            "sent": self.sent,
            "delivered": self.delivered,
            "failed": self.failed,
            "opt_outs": self.opt_outs,
            "ratings": self.ratings,
            "average_rating": round(self.rating_total / self.ratings, 2) if self.ratings else None,
        }


def compare(
    reminders: Iterable[dict[str, Any]], suppressed_at: Callable[[str], str | None]
) -> list[dict[str, Any]]:
    """One row per arm (text arms, then lead arms, each sorted); `suppressed_at(phone)` is the number's
    opt-out time (ISO) or None."""
    arms: dict[tuple[str, str], ArmCounts] = {}
    opted_out: dict[str, int | None] = {}  # per number: read each suppression once
    for item in reminders:
        variant = item.get("variant") or {}
        opt_out = _opted_out_after(item, suppressed_at, opted_out)
        for dimension in ("text", "lead"):
            if variant.get(dimension) is None:
                continue
            key = (dimension, str(variant[dimension]))
            counts = arms.setdefault(key, ArmCounts(*key))
            counts.reminders += 1
            counts.sent += "sent_at" in item
            counts.delivered += item.get("state") == "delivered"
            counts.failed += item.get("state") == "failed"
            counts.opt_outs += opt_out
            if item.get("rating") is not None:
                counts.ratings += 1
                counts.rating_total += int(item["rating"])
    ordered = sorted(arms.values(), key=lambda c: (c.dimension != "text", _arm_order(c.arm)))
    return [counts.row() for counts in ordered]


def _arm_order(arm: str) -> tuple[int, str]:
    return (int(arm), "") if arm.isdigit() else (0, arm)


def _opted_out_after(
    item: dict[str, Any], suppressed_at: Callable[[str], str | None], seen: dict[str, int | None]
) -> bool:
    phone = item.get("phone")
    if not phone or "sent_at" not in item:
        return False
    if phone not in seen:
        at = suppressed_at(str(phone))
        seen[phone] = instant_ms(at, 0) if at else None
    return opted_out_after(item["sent_at"], seen[phone])


def render(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no reminders with a variant (is REMINDER_VARIANTS=on on the worker?)"
    header = (
        f"{'arm':<14}{'reminders':>10}{'sent':>6}{'delivered':>10}{'failed':>7}{'opt-outs':>9}{'rating':>8}"
    )
    lines = [header]
    for row in rows:
        rating = "-" if row["average_rating"] is None else f"{row['average_rating']:.2f}"
        lines.append(
            f"{row['dimension'] + ' ' + row['arm']:<14}{row['reminders']:>10}{row['sent']:>6}"
            f"{row['delivered']:>10}{row['failed']:>7}{row['opt_outs']:>9}{rating:>8}"
        )
    return "\n".join(lines)
