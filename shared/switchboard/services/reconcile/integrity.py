"""The weekly integrity check: for each whole UTC day and each provider, the provider's own count (its list
API) vs. the stored count -> a consistency rate; any day below the threshold alerts once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from switchboard.models.reconcile import iso
from switchboard.services.reconcile.sources import MessageSource

MAX_DAYS = 31  # one listing per day and provider under its rate limit; as reconciliation's own 744-hour cap


class StoredDays(Protocol):
    def stored_message_days(self, provider: str, since_iso: str) -> dict[str, int]: ...


def consistency_rate(provider_count: int, stored_count: int) -> float:
    """Share of the provider's messages we hold (1.0 when the provider listed none); extra stored
    messages (e.g. a date moved across midnight) never push it above 1."""
    if provider_count <= 0:
        return 1.0
    return min(stored_count, provider_count) / provider_count


@dataclass
class IntegrityCheck:
    sources: Mapping[str, MessageSource]
    records: StoredDays
    alert: Callable[[str, str], None]
    clock: Callable[[], float]
    threshold: float

    def check(self, days: int = 7, providers: Sequence[str] | None = None) -> dict[str, Any]:
        """Listed vs. stored (a filtered scan of message records by occurred_at) for each of the last
        `days` whole UTC days; any rate below the threshold alerts once, listing every short day."""
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be from 1 to {MAX_DAYS}, got {days}")
        today = datetime.fromtimestamp(self.clock(), tz=UTC).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        first = today - timedelta(days=days)
        report: list[dict[str, Any]] = []
        for name in providers or list(self.sources):
            source = self.sources[name]
            stored = self.records.stored_message_days(name, iso(first)[:10])
            for offset in range(days):
                day = first + timedelta(days=offset)
                listed = sum(len(items) for items, _ in source.pages(day, day + timedelta(days=1), None))
                stored_count = stored.get(day.date().isoformat(), 0)
                report.append(
                    {
                        "provider": name,
                        "day": day.date().isoformat(),
                        "provider_count": listed,
                        "stored_count": stored_count,
                        "consistency": consistency_rate(listed, stored_count),
                    }
                )
        short = [row for row in report if row["consistency"] < self.threshold]
        if short:
            lines = [
                f"{row['provider']} {row['day']}: {row['stored_count']}/{row['provider_count']}"
                f" stored ({row['consistency']:.2%})"
                for row in short
            ]
            self.alert(
                "Switchboard integrity check below 99.9 %",
                "Days whose stored messages fall short of the provider's list:\n" + "\n".join(lines),
            )
        return {"status": "alert" if short else "ok", "days": report, "below_threshold": len(short)}
