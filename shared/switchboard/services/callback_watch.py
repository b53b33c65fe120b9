"""The broken-loop check from real traffic: sends whose status callback is overdue, per provider.

Run every minute (HealthCheckFunction's CallbackWatch schedule). A send accepted more than
`overdue_after_seconds` ago whose first status callback has not arrived is overdue; the check emits
`CallbacksOverdue` by provider and in total, and CallbacksOverdueAlarm fires on the total. Sends older
than `window_seconds` stop counting, so one lost callback raises the alarm for a while, not for ever.
With nothing sent, nothing waits: the metric stays 0 and the alarm quiet (the hourly canary covers
quiet periods). Cost: one Query per watched provider per run (Select COUNT on a sparse index).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.container import once_per_container
from switchboard.observability import logger, metric_by, service_metric


class Waiting(Protocol):
    def count_waiting(self, provider: str, *, sent_after: float, sent_before: float) -> int: ...


@dataclass
class CallbackWatch:
    waiting: Waiting
    providers: Sequence[str]
    overdue_after_seconds: int = 120
    window_seconds: int = 3600
    clock: Callable[[], float] = time.time

    def check(self) -> dict[str, Any]:
        now = self.clock()
        overdue = {
            provider: self.waiting.count_waiting(
                provider, sent_after=now - self.window_seconds, sent_before=now - self.overdue_after_seconds
            )
            for provider in self.providers
        }
        for provider, count in overdue.items():
            metric_by("CallbacksOverdue", count, provider=provider)
        total = sum(overdue.values())
        service_metric("CallbacksOverdue", total)
        if total:
            logger.warning(
                "status callbacks overdue", overdue=overdue, after_seconds=self.overdue_after_seconds
            )
        return {"status": "overdue" if total else "ok", "overdue": overdue}


@once_per_container
def default_callback_watch() -> CallbackWatch:
    from switchboard.dal.callbacks import AwaitedCallbacks
    from switchboard.function_settings import health_settings

    settings = health_settings()
    return CallbackWatch(
        waiting=AwaitedCallbacks(settings.table_name),
        providers=settings.callback_providers,
        overdue_after_seconds=settings.callback_overdue_seconds,
    )
