"""A reconciliation run: where it is (which provider, which cursor), what it counted per provider, its
checkpoint; and the explicit mappings to its DynamoDB run record (dal/reconcile_records.py: the field
names the earlier untyped run wrote, so records it stored load) and from a record to the run's answer
(what ReconcileFunction returns and `switchboard reconcile run` prints)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

# Written only once they mean something: a record without them is a run that has not got there.
_OPTIONAL_FIELDS = (
    "finished",
    "duration_seconds",
    "totals",
    "requeued",
    "checkpoint",
    "swept",
    "sweep_failed",
)
# The answer's fields, picked from a record of any age (the CLI follows records it did not write).
_SUMMARY_FIELDS = (
    "sk",
    "started",
    "finished",
    "window_start",
    "window_end",
    "stats",
    "totals",
    "requeued",
    "segments",
)


class RunStatus(StrEnum):
    RUNNING = "running"
    CHECKPOINTED = "checkpointed"  # stopped before the time limit; its continuation resumes it
    COMPLETED = "completed"
    FAILED = "failed"  # crashed (the store itself failing, say)


class ProviderStats(BaseModel):
    """One provider's counts in a run (a record written before a count existed reads it as 0)."""

    pages: int = 0
    messages_processed: int = 0
    new_messages: int = 0
    existing_messages: int = 0
    requeued: int = 0
    statuses_backfilled: int = 0  # final statuses of outbound messages whose callback never came
    inbound_listed: int = 0  # the webhook capture rate's base: only inbound messages come by webhook
    inbound_missing: int = 0
    errors: int = 0
    retries: int = 0
    throttled: int = 0

    def add(self, other: ProviderStats) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Checkpoint(BaseModel):
    """Where a run stopped, handed to its continuation: the run, the provider and cursor it resumes at,
    and the token the lock passes to (only that continuation takes it)."""

    model_config = ConfigDict(frozen=True)

    run: str
    provider: str
    cursor: Any = None
    lock: str


class ReconcileRun(BaseModel):
    sk: str  # RUN#<started>
    status: RunStatus
    started: str
    window_start: str
    window_end: str
    window_hours: float
    providers: list[str]
    stats: dict[str, ProviderStats]
    position: int = 0  # index in `providers` of the one being paged
    cursor: Any = None  # that provider's next page (its source's own shape)
    elapsed_seconds: float = 0.0  # over every segment
    segments: int = 0  # invocations that worked on it
    done: float = 0.0  # the share of the window done, for a progress bar; never moves back
    swept: bool = False  # the stuck-job sweep ran (once per run)
    sweep_failed: bool = False
    requeued: int | None = None  # stuck jobs re-enqueued, once swept
    finished: str | None = None
    duration_seconds: float | None = None
    totals: ProviderStats | None = None
    checkpoint: Checkpoint | None = None

    @classmethod
    def start(cls, providers: Sequence[str], now: datetime, window: timedelta) -> ReconcileRun:
        return cls(
            sk=f"RUN#{iso(now)}",
            status=RunStatus.RUNNING,
            started=iso(now),
            window_start=iso(now - window),
            window_end=iso(now),
            window_hours=round(window.total_seconds() / 3600, 3),
            providers=list(providers),
            stats={name: ProviderStats() for name in providers},
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReconcileRun:
        """The run a stored record holds (its pk, and fields it no longer knows, are ignored)."""
        return cls.model_validate(dict(record))

    def to_record(self) -> dict[str, Any]:
        """The run record's fields (without pk): every field under its own name, the optional ones only
        once set."""
        record = self.model_dump(mode="json")
        for name in _OPTIONAL_FIELDS:
            if record[name] in (None, False):
                del record[name]
        return record

    def summary(self) -> dict[str, Any]:
        return run_summary(self.to_record())

    @property
    def window(self) -> tuple[datetime, datetime]:
        return parse_iso(self.window_start), parse_iso(self.window_end)

    @property
    def current_provider(self) -> str | None:
        return self.providers[self.position] if self.position < len(self.providers) else None

    def advance_done(self, provider_done: float | None) -> None:
        """The run's `done` share: finished providers plus the current one's estimated share, never moving
        back; an unknown share counts the provider as just started."""
        done = (self.position + (provider_done or 0.0)) / len(self.providers)
        self.done = round(max(self.done, done), 4)

    def add_time(self, seconds: float) -> None:
        self.elapsed_seconds = round(self.elapsed_seconds + seconds, 3)

    def totalled(self) -> ProviderStats:
        totals = ProviderStats()
        for stats in self.stats.values():
            totals.add(stats)
        return totals


def run_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a run answers (and `reconcile run` prints) from its record: window, per-provider stats,
    totals, duration."""
    summary = {key: record[key] for key in _SUMMARY_FIELDS if key in record}
    summary["run"] = summary.pop("sk")
    summary["duration_seconds"] = record.get("elapsed_seconds", 0.0)
    return summary


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
