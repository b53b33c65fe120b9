"""The daily digest: yesterday's numbers in one document, published to AlertsTopic once a day
(ReconcileFunction's DailyDigest schedule) and printed by `switchboard metrics daily [--date D] [--json]`.

Where each number comes from (docs/adr/0016):
- the events table, one Scan of the day (dal/daily_records.py): webhooks stored by provider and kind,
  jobs processed / retried / exhausted / pending, messages sent (stored by the sender) by provider,
  deliveries by final status;
- the table's own records: canary checks (HealthRecords), reconciliation runs (their backfills and the
  webhook capture rate), AI usage (the AIUSAGE#<day> partitions, 8 days for the cost trend);
- the reminder records of the day, in the same Scan: the reminder section is the day's row of
  services/reminders/stats.py, stored by the digest's own run (stats_rollup.py), and computed when
  the day was not rolled up yet (`source` says which);
- CloudWatch, for what is never stored: duplicate and rejected webhooks (bad input stores nothing) and
  opt-outs (the suppression record keeps only the latest keyword). Locally these are null: moto's
  CloudWatch receives no EMF.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from switchboard.container import once_per_container
from switchboard.observability import logger, service_metric
from switchboard.providers import ROUTES
from switchboard.services.ai_usage import usage_report
from switchboard.services.health import health_stats
from switchboard.services.job_stats import job_stats
from switchboard.services.processing.delivery import final_outcome
from switchboard.services.rates import percent
from switchboard.services.reminders.stats_rollup import ReminderRollup

# Per provider, never stored: a duplicate or a rejected webhook leaves no record (by design).
PROVIDER_METRICS = ("DuplicateWebhooks", "SignatureRejected", "BadRequests")
COST_SPIKE_PERCENT = 200  # template.yaml LlmCostSpikeAlarm: yesterday > 2 x the 7 days before


@dataclass
class Sources:
    """Where the digest reads; each a plain callable so tests and the CLI can wire their own clients."""

    records_of: Callable[[str], Iterable[dict[str, Any]]]  # the day's event and delivery records
    canary_checks: Callable[[str], list[dict[str, Any]]]  # checks since a token (time-prefixed)
    reconcile_runs: Callable[[], list[dict[str, Any]]]  # the newest runs first
    ai_calls_on: Callable[[str], Iterable[dict[str, Any]]]
    metric_sums: Callable[[Sequence[tuple[str, dict[str, str]]], datetime], list[float | None]] | None
    # The day's reminder row from (day, the day's records): stored and emitted by the digest's run
    # (ReminderRollup.roll_up), read back (or computed) by the CLI (ReminderRollup.day_row).
    reminders: Callable[[str, list[dict[str, Any]]], dict[str, Any]]


def yesterday(now: float) -> str:
    return (datetime.fromtimestamp(now, UTC).date() - timedelta(days=1)).isoformat()


def build_digest(sources: Sources, day: str) -> dict[str, Any]:
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    records = list(sources.records_of(day))
    events = [r for r in records if r.get("sk") != "DELIVERY" and "job_state" in r]
    deliveries = [r for r in records if r.get("sk") == "DELIVERY"]
    webhooks: dict[str, Counter[str]] = defaultdict(Counter)
    for event in events:
        if event.get("source", "webhook") == "webhook":
            webhooks[str(event.get("provider"))][str(event.get("kind", "message"))] += 1
    jobs = job_stats(events)
    delivery = Counter(final_outcome(str(r.get("delivery_status", ""))) or "in_flight" for r in deliveries)
    final = delivery["delivered"] + delivery["failed"]
    sent = Counter(str(e.get("provider")) for e in events if e.get("source") == "sender")  # stored sends
    opt_outs = _cloudwatch_totals(sources, ("OptOuts",), start)["opt_outs"]
    return {
        "date": day,
        "webhooks": {
            "stored_by_provider": {p: dict(sorted(kinds.items())) for p, kinds in sorted(webhooks.items())},
            "stored": sum(sum(kinds.values()) for kinds in webhooks.values()),
            **_cloudwatch_by_provider(sources, start),
        },
        "jobs": {
            "total": jobs["total"],
            "processed": jobs["processed"],
            "retried": sum(1 for event in events if int(event.get("attempts") or 0) > 1),
            "exhausted": jobs["exhausted"],
            "pending": jobs["pending"] + jobs["processing"],
        },
        "canary": _canary(sources, start),
        "reconciliation": _reconciliation(sources, day),
        "sends": {
            "sent_by_provider": dict(sorted(sent.items())),
            "sent": sum(sent.values()),
            "opt_outs": opt_outs,
            "opt_out_rate": round(100 * opt_outs / sum(sent.values()), 2) if opt_outs and sent else None,
        },
        "deliveries": {
            "delivered": delivery["delivered"],
            "failed": delivery["failed"],
            "in_flight": delivery["in_flight"],
            "delivery_rate": percent(delivery["delivered"], final),
        },
        "reminders": sources.reminders(day, records),
        "ai": _ai(sources, day),
    }


def _canary(sources: Sources, start: datetime) -> dict[str, Any]:
    since, until = int(start.timestamp()), int((start + timedelta(days=1)).timestamp())
    checks = [c for c in sources.canary_checks(f"{since:010d}") if str(c.get("token", "")) < f"{until:010d}"]
    stats = health_stats(checks)
    return {key: stats[key] for key in ("total", "passed", "failed", "success_rate")}


def _reconciliation(sources: Sources, day: str) -> dict[str, Any]:
    """Runs started that day: messages backfilled, and the webhook capture rate (inbound messages the
    providers list that had arrived by webhook before the run)."""
    runs = [run for run in sources.reconcile_runs() if str(run.get("started", "")).startswith(day)]
    totals: Counter[str] = Counter()
    for run in runs:
        for stats in (run.get("stats") or {}).values():
            totals.update({k: int(v) for k, v in stats.items() if isinstance(v, int | float)})
    listed, missing = totals["inbound_listed"], totals["inbound_missing"]
    return {
        "runs": len(runs),
        "backfilled": totals["new_messages"],
        "statuses_backfilled": totals["statuses_backfilled"],
        "errors": totals["errors"],
        "capture_rate": percent(listed - missing, listed),
    }


def _ai(sources: Sources, day: str) -> dict[str, Any]:
    noon = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() + 12 * 3600
    today = usage_report(sources.ai_calls_on, 1, noon)
    week_before = usage_report(sources.ai_calls_on, 7, noon - 86400)
    average = week_before["cost_usd"] / 7
    return {
        **{key: today[key] for key in ("calls", "failures", "cost_usd", "input_tokens", "output_tokens")},
        "success_rate": percent(today["calls"] - today["failures"], today["calls"]),
        "average_latency_ms": today["average_latency_ms"],
        "cost_by_feature": {name: s["cost_usd"] for name, s in today["by_feature"].items()},
        "cost_7_day_average_usd": round(average, 6),
        "cost_vs_7_day_average_percent": round(100 * today["cost_usd"] / average, 1) if average else None,
    }


def _cloudwatch_by_provider(sources: Sources, start: datetime) -> dict[str, Any]:
    providers = sorted({route.provider for route in ROUTES.values()})
    keys = [(name, {"provider": p}) for name in PROVIDER_METRICS for p in providers]
    sums = sources.metric_sums(keys, start) if sources.metric_sums else [None] * len(keys)
    result: dict[str, Any] = {}
    for name in PROVIDER_METRICS:
        values = {dims["provider"]: v for (metric, dims), v in zip(keys, sums, strict=True) if metric == name}
        known = {p: int(v) for p, v in values.items() if v}
        result[_snake(name)] = known if any(v is not None for v in values.values()) else None
    return result


def _cloudwatch_totals(sources: Sources, names: Sequence[str], start: datetime) -> dict[str, Any]:
    keys: list[tuple[str, dict[str, str]]] = [(name, {}) for name in names]
    sums = sources.metric_sums(keys, start) if sources.metric_sums else [None] * len(keys)
    return {
        _snake(name): None if value is None else int(value) for name, value in zip(names, sums, strict=True)
    }


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def render(digest: dict[str, Any]) -> str:
    """The digest as the e-mail's text (and the CLI's table-less output): one line per number."""
    lines = [f"Switchboard, {digest['date']} (UTC)", ""]
    for section, values in digest.items():
        if section == "date":
            continue
        lines.append(section.replace("_", " ").upper())
        for name, value in values.items():
            lines.append(f"  {name.replace('_', ' ')}: {_plain(value)}")
        lines.append("")
    lines.append("null / n/a: not recorded (CloudWatch has no data for that day, e.g. on the local stack).")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items()) or "none"
    return str(value)


@dataclass
class DailyDigest:
    sources: Sources
    publish: Callable[[str, str], None]  # (subject, message) to AlertsTopic
    clock: Callable[[], float] = time.time

    def send(self, day: str | None = None) -> dict[str, Any]:
        """Build yesterday's (or `day`'s) digest, emit the cost trend the cost alarm reads, publish it."""
        day = day or yesterday(self.clock())
        date.fromisoformat(day)  # a clear ValueError for a malformed date
        digest = build_digest(self.sources, day)
        ratio = digest["ai"]["cost_vs_7_day_average_percent"]
        if ratio is not None:
            service_metric("AICostVsWeekAverage", ratio, "Percent")
        self.publish(f"Switchboard daily digest {day}", render(digest))
        logger.info("daily digest published", day=day)
        return digest


def table_sources(
    table_name: str, *, dynamodb: Any = None, cloudwatch: Any = None, roll_up: bool = False
) -> Sources:
    """The digest's sources over one events table (the function's, or the CLI's target); `roll_up`
    stores the day's reminder numbers (the scheduled digest), else they are read back."""
    from switchboard.dal.health_records import HealthRecords
    from switchboard.dal.metric_sums import MetricSums
    from switchboard.dal.reconcile_records import ReconcileRecords

    rollup = reminder_rollup(table_name, dynamodb=dynamodb)
    return Sources(
        records_of=rollup.records_of,
        canary_checks=HealthRecords(table_name, dynamodb=dynamodb).history,
        reconcile_runs=lambda: ReconcileRecords(table_name, dynamodb=dynamodb).list_runs(limit=50),
        ai_calls_on=rollup.calls_on,
        metric_sums=MetricSums(cloudwatch=cloudwatch).daily,
        reminders=rollup.roll_up if roll_up else rollup.day_row,
    )


def reminder_rollup(table_name: str, *, dynamodb: Any = None) -> ReminderRollup:
    """The reminder numbers' rollup over one events table (the digest's, or `metrics reminders`')."""
    from switchboard.dal.ai_usage import AiUsageRecords
    from switchboard.dal.daily_records import DailyRecords
    from switchboard.dal.reminder_stats import ReminderStatsRecords

    return ReminderRollup(
        store=ReminderStatsRecords(table_name, dynamodb=dynamodb),
        calls_on=AiUsageRecords(table_name, dynamodb=dynamodb).calls_on,
        records_of=DailyRecords(table_name, dynamodb=dynamodb).records_of,
    )


@once_per_container
def default_digest() -> DailyDigest:
    from functools import partial

    from switchboard.dal.notifications import publish_alert
    from switchboard.function_settings import reconcile_settings

    settings = reconcile_settings()
    return DailyDigest(
        sources=table_sources(settings.table_name, roll_up=True),
        publish=partial(publish_alert, settings.alerts_topic_arn),
    )
