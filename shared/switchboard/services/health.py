"""The hourly end-to-end canary: send a token through the outbound path, expect its webhook back.

start(): record the check, enqueue the canary send, schedule verification after the timeout with an
SQS delay (no sleeping Lambda). Ingest records `received` when the token comes back. verify(): passed
(with latency) or failed; an alert on the first failure and one on recovery, none while it stays down.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.canary import canary_body, new_token
from switchboard.container import once_per_container
from switchboard.models.outbound import SendRequest
from switchboard.observability import logger, metrics

RETENTION_SECONDS = 30 * 24 * 3600


class Records(Protocol):
    def start(self, token: str, *, now: float, retention_seconds: int, **fields: Any) -> None: ...
    def get(self, token: str) -> dict[str, Any] | None: ...
    def finish(self, token: str, status: str, *, now: float, latency_ms: int | None) -> bool: ...
    def swap_last_result(self, result: str, now: float) -> str | None: ...


@dataclass(frozen=True)
class CanaryRoute:
    provider: str
    monitoring_number: str  # sends the canary
    monitored_number: str  # receives it: its inbound webhook must reach Switchboard
    timeout_seconds: int = 120


@dataclass
class HealthCheck:
    records: Records
    route: CanaryRoute | None
    send: Callable[[SendRequest], None]  # enqueue on the outbound queue
    schedule_verification: Callable[[str, int], None]  # (body, delay seconds)
    alert: Callable[[str, str], None]  # (subject, message)
    clock: Callable[[], float] = time.time

    def start(self) -> dict[str, Any]:
        if self.route is None:
            metrics.add_metric(name="HealthCheckFailed", unit="Count", value=1)
            logger.error("health check not configured: set the canary numbers")
            return {"status": "not_configured"}
        now = self.clock()
        token = new_token(now)
        self.records.start(token, now=now, retention_seconds=RETENTION_SECONDS, provider=self.route.provider)
        request = SendRequest(
            send_key=f"canary-{token}",
            provider=self.route.provider,
            sender=self.route.monitoring_number,
            recipient=self.route.monitored_number,
            body=canary_body(token),
            purpose="canary",
        )
        self.send(request)
        self.schedule_verification(json.dumps({"token": token}), self.route.timeout_seconds)
        logger.info("health check started", token=token)
        return {"status": "sent", "token": token}

    def handle_verification(self, body: str, *, receipt_handle: str, receive_count: int) -> str:
        """The delayed SQS message: judge the check named in it (a malformed one is simply dropped)."""
        try:
            token = str(json.loads(body)["token"])
        except (ValueError, KeyError, TypeError):
            logger.error("malformed verification message dropped")
            return "dropped"
        return self.verify(token)

    def verify(self, token: str) -> str:
        record = self.records.get(token)
        if record is None:
            return "unknown"
        now = self.clock()
        received = record.get("received_at")
        passed = received is not None
        latency = int(received) - int(record["started_at"]) if received is not None else None
        if not self.records.finish(token, "passed" if passed else "failed", now=now, latency_ms=latency):
            return str(record.get("status"))  # already judged (a redelivered verification)
        metrics.add_metric(name="HealthCheckPassed" if passed else "HealthCheckFailed", unit="Count", value=1)
        if latency is not None:
            metrics.add_metric(name="HealthCheckLatency", unit="Milliseconds", value=latency)
        previous = self.records.swap_last_result("passed" if passed else "failed", now)
        self._alert_on_change(token, passed, previous, latency)
        return "passed" if passed else "failed"

    def _alert_on_change(self, token: str, passed: bool, previous: str | None, latency: int | None) -> None:
        if not passed and previous != "failed":
            timeout = self.route.timeout_seconds if self.route else "?"
            self.alert(
                "Switchboard health check FAILED",
                f"The canary {token} did not come back within {timeout} s: sending, the provider or inbound"
                " webhooks are broken. This is the only alert until it recovers.",
            )
        elif passed and previous == "failed":
            self.alert("Switchboard health check recovered", f"The canary {token} came back in {latency} ms.")


def health_stats(checks: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Total / passed / failed / success rate / last failure / latency percentiles over judged checks."""
    judged = [check for check in checks if check.get("status") in ("passed", "failed")]
    passed = [check for check in judged if check["status"] == "passed"]
    failures = [check for check in judged if check["status"] == "failed"]
    latencies = sorted(int(check["latency_ms"]) for check in passed if check.get("latency_ms") is not None)

    def percentile(fraction: float) -> int | None:
        if not latencies:
            return None
        if len(latencies) == 1:
            return latencies[0]
        return int(statistics.quantiles(latencies, n=100, method="inclusive")[int(fraction * 100) - 1])

    return {
        "total": len(judged),
        "passed": len(passed),
        "failed": len(failures),
        "success_rate": round(100 * len(passed) / len(judged), 2) if judged else None,
        "last_failure": failures[-1]["token"] if failures else None,
        "latency_p50_ms": percentile(0.50),
        "latency_p95_ms": percentile(0.95),
    }


@once_per_container
def default_health_check() -> HealthCheck:
    """The health check wired to the environment's resources, built once per container."""
    from functools import partial

    from switchboard.dal.health_records import HealthRecords
    from switchboard.dal.notifications import publish_alert, send_message
    from switchboard.dal.outbound_queue import OutboundQueue
    from switchboard.function_settings import health_settings

    settings = health_settings()
    configured = settings.canary_from and settings.canary_to
    return HealthCheck(
        records=HealthRecords(settings.table_name),
        route=CanaryRoute(
            settings.canary_provider,
            settings.canary_from,
            settings.canary_to,
            settings.canary_timeout_seconds,
        )
        if configured
        else None,
        send=OutboundQueue(settings.outbound_queue_url).send_request,
        schedule_verification=lambda body, delay: send_message(
            settings.health_verify_queue_url, body, delay_seconds=delay
        ),
        alert=partial(publish_alert, settings.alerts_topic_arn),
    )
