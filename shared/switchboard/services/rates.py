"""One way to state a rate in the numbers Switchboard reports: a percentage with two decimals, None (not
0) when nothing was counted, so "no data" never reads as "all failed"."""

from __future__ import annotations


def percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 2) if whole else None
