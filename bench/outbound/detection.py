"""Figure 2: how long from a health check starting to the failure alert, when the loop is broken.

The real HealthCheckFunction handler (its scheduled start, then its SQS verification) runs against moto
and the sandbox, with CANARY_TIMEOUT_SECONDS scaled by 1/SCALE (120 s -> 2 s). Around it, what AWS and
the providers do, on threads:

- the sender poller: OutboundQueue -> `Sender.handle` (built by `build_sender()`) -> the real
  send_twilio over HTTP to the sandbox;
- the way back: the canary arrives at the monitored number and its provider posts the signed inbound
  webhook to the receiver, which runs IngestFunction (it records the canary) - unless drop_rate drops
  it. A sandbox that owns the canary's numbers (`SandboxConfig.owner_of`) loops a delivered send back
  itself; otherwise a carrier thread here does it (`Sandbox.inbound`, the same drop_rate). The
  broken loop is drop_rate 1.0: every send succeeds, no webhook ever comes back, which only an
  end-to-end canary can notice;
- the verification poller: HealthVerifyQueue (moto honours the SQS delay) -> the handler's
  verification -> SNS AlertsTopic;
- the inbox: an SQS queue subscribed to AlertsTopic (what the e-mail subscription gets), timestamped.

Trials alternate healthy (drop_rate 0: the check passes; after a failure it sends "recovered") and
broken (drop_rate 1: the check fails and alerts, once per outage). Detection = alert received - start.
Reported scaled back to real time two ways: detection x SCALE (everything stretched, the conservative
figure), and the fixed 120 s timeout + the unscaled overhead (the overhead is processing and polling,
which does not stretch with the timeout). Baseline: the timeout itself (ratio = detection / timeout).
A webhook-only system (no canary) never detects this: every send succeeds, and an absent webhook raises
no error anywhere.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from bench.ingest.common import Figure, median, progress, quiet_stdout
from bench.outbound.common import (
    MONITORED,
    MONITORING,
    HealthContext,
    Stack,
    Tally,
    build_sender,
    environment,
    outbound_stack,
    poll_until_empty,
)

SCALE = 60
REAL_TIMEOUT_SECONDS = 120  # template.yaml: CANARY_TIMEOUT_SECONDS "120"
TARGET_SECONDS = 300
# A check with no verdict or alert by then counts as undetected (generous: CI machines are often loaded).
WAIT_AFTER_TIMEOUT_SECONDS = 60
POLL_SECONDS = 0.02  # how often the bench's pollers look (Lambda's SQS poller long-polls)
FAILED, RECOVERED = "Switchboard health check FAILED", "Switchboard health check recovered"


class _Loop:
    """The threads that stand in for AWS and the providers while checks run."""

    def __init__(self, stack: Stack, health_handler: Any, timeout_seconds: int) -> None:
        self.stack = stack
        self.handler = health_handler
        self.timeout_seconds = timeout_seconds
        self.stop = threading.Event()
        self.tally = Tally()
        owner_of = getattr(stack.sandbox.config, "owner_of", None)  # a sandbox that closes loops itself
        self.loops_back = owner_of is not None and owner_of(MONITORED, prefer="twilio") is not None
        self.carried: list[dict[str, Any]] = []  # canaries the carrier thread handed over
        self.verifications: list[dict[str, Any]] = []  # (received, handled) per verification message
        self.alerts: list[dict[str, Any]] = []  # what the inbox received
        self.published: list[dict[str, Any]] = []  # what the health check published
        self._seen: set[str] = set()
        self._threads: list[threading.Thread] = []

    # --- the threads -------------------------------------------------------------------------------

    def _sender(self) -> None:
        sender = build_sender(self.tally)
        poll_until_empty(
            self.stack.sqs,
            self.stack.queue("OutboundQueue"),
            sender.handle,
            stop=self.stop,
            idle_wait=POLL_SECONDS,
        )

    def _carrier(self) -> None:
        sandbox = self.stack.sandbox
        while not self.stop.wait(POLL_SECONDS):
            for message in sandbox.messages("twilio"):
                if message.direction != "outbound" or message.id in self._seen:
                    continue
                self._seen.add(message.id)
                if (message.sender, message.recipient) != (MONITORING, MONITORED):
                    continue
                at = time.perf_counter()
                answer = sandbox.inbound(
                    "twilio", message.sender, message.recipient, message.body, wait=False
                )
                self.carried.append({"at": at, "body": message.body, "dropped": bool(answer["dropped"])})

    def _verifier(self) -> None:
        from switchboard_ops.local.sqs_events import delete_succeeded, receive_batch, sqs_event

        sqs, url = self.stack.sqs, self.stack.queue("HealthVerifyQueue")
        arn = self.stack.resources.queue_arns["HealthVerifyQueue"]
        while not self.stop.wait(POLL_SECONDS):
            messages = receive_batch(sqs, url)
            if not messages:
                continue
            received = time.perf_counter()
            response = self.handler(sqs_event(messages, arn), HealthContext())
            delete_succeeded(sqs, url, messages, response)
            for message in messages:
                self.verifications.append(
                    {"token": json.loads(message["Body"])["token"], "received": received}
                )

    def _inbox(self, queue_url: str) -> None:
        from switchboard_ops.local.sqs_events import receive_batch

        sqs = self.stack.sqs
        while not self.stop.wait(POLL_SECONDS):
            for message in receive_batch(sqs, queue_url):
                at = time.perf_counter()
                body = json.loads(message["Body"])
                self.alerts.append({"at": at, "subject": body["Subject"], "message": body["Message"]})
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self, check: Any) -> None:
        sqs = self.stack.sqs
        from switchboard.dal.aws import client

        inbox = sqs.create_queue(QueueName="bench-alerts-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        client("sns").subscribe(
            TopicArn=self.stack.resources.topics["AlertsTopic"], Protocol="sqs", Endpoint=arn
        )

        publish = check.alert

        def timed_alert(subject: str, message: str) -> None:  # instrumentation: timestamp, then publish
            self.published.append({"at": time.perf_counter(), "subject": subject})
            publish(subject, message)

        check.alert = timed_alert
        targets = [self._sender, self._verifier, lambda: self._inbox(inbox)]
        names = ["sender-poller", "verify-poller", "alerts-inbox"]
        if not self.loops_back:
            targets.append(self._carrier)
            names.append("carrier")
        self._threads = [
            threading.Thread(target=t, name=n, daemon=True) for t, n in zip(targets, names, strict=True)
        ]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(10)

    # --- one check -----------------------------------------------------------------------------------

    def run_check(self, *, broken: bool, expect_alert: str | None) -> dict[str, Any]:
        self.stack.sandbox.configure(drop_rate=1.0 if broken else 0.0)
        alerts_before = len(self.alerts)
        dropped_before = self.stack.sandbox.stats()["dropped"]
        started = time.perf_counter()
        answer = self.handler({"source": "aws.events", "detail-type": "Scheduled Event"}, HealthContext())
        returned = time.perf_counter()
        token = answer["token"]
        deadline = returned + self.timeout_seconds + WAIT_AFTER_TIMEOUT_SECONDS
        verdict: dict[str, Any] | None = None
        alert: dict[str, Any] | None = None
        while time.perf_counter() < deadline:
            verdict = verdict or next((v for v in self.verifications if v["token"] == token), None)
            new_alerts = self.alerts[alerts_before:]
            alert = next((a for a in new_alerts if token in a["message"]), None)
            if verdict and (alert or expect_alert is None):
                if expect_alert is None:
                    time.sleep(0.2)  # long enough for a stray alert to show up
                break
            time.sleep(POLL_SECONDS / 2)
        from switchboard.dal.health_records import HealthRecords

        record = HealthRecords(self.stack.resources.tables["EventsTable"]).get(token) or {}
        accepted = next((at for at in self.tally.accepted_at if at >= started), None)
        published = next((p for p in self.published if p["at"] >= started), None)
        result: dict[str, Any] = {
            "broken": broken,
            "token": token,
            "status": record.get("status"),
            "canary_latency_ms": record.get("latency_ms"),
            "webhooks_dropped": self.stack.sandbox.stats()["dropped"] - dropped_before,
            "way_back": "sandbox loop-back" if self.loops_back else "bench carrier thread",
            "expected_alert": expect_alert,
            "alert": None if alert is None else alert["subject"],
            "alerts_this_check": [a["subject"] for a in self.alerts[alerts_before:]],
        }
        if verdict is None:
            return {**result, "error": "no verification within the deadline"}
        timing = {
            "start_handler": returned - started,
            "canary_accepted_by_provider": None if accepted is None else accepted - started,
            "verification_received": verdict["received"] - started,
        }
        if alert is not None and published is not None:
            timing |= {
                "alert_published": published["at"] - started,
                "alert_received": alert["at"] - started,
            }
        return {
            **result,
            "seconds_from_start": {k: None if v is None else round(v, 4) for k, v in timing.items()},
        }


def plan(broken_checks: int) -> list[bool]:
    """healthy, then (broken, healthy) x n: every broken check follows a passing one (so it alerts)."""
    return [False] + [True, False] * broken_checks


def measure(broken_checks: int, scale: int = SCALE) -> dict[str, Any]:
    from switchboard.services import health as health_module
    from switchboard_ops.project import load_handler

    timeout_seconds = max(1, round(REAL_TIMEOUT_SECONDS / scale))
    with quiet_stdout(), outbound_stack(ingest=True, status_delay=0.0) as stack:
        env = {
            **stack.sender_environment(twilio_rate=50.0, openphone_rate=10.0),
            "HEALTH_VERIFY_QUEUE_URL": stack.queue("HealthVerifyQueue"),
            "ALERTS_TOPIC_ARN": stack.resources.topics["AlertsTopic"],
            "CANARY_PROVIDER": "twilio",
            "CANARY_FROM_NUMBER": MONITORING,
            "CANARY_TO_NUMBER": MONITORED,
            "CANARY_TIMEOUT_SECONDS": str(timeout_seconds),
        }
        with environment(**env):
            handler = load_handler("health_check").handler
            check = health_module.default_health_check()  # the one the handler uses (per container)
            loop = _Loop(stack, handler, timeout_seconds)
            loop.start(check)
            checks = []
            try:
                previous = None
                for broken in plan(broken_checks):
                    expect = FAILED if broken and previous != "failed" else None
                    if not broken and previous == "failed":
                        expect = RECOVERED
                    outcome = loop.run_check(broken=broken, expect_alert=expect)
                    checks.append(outcome)
                    previous = outcome["status"]
            finally:
                loop.close()
            sandbox_stats = stack.sandbox.stats()
    return {
        "scale": scale,
        "timeout_seconds_scaled": timeout_seconds,
        "checks": checks,
        "sandbox": {
            k: sandbox_stats[k]
            for k in ("sent", "received", "looped_back", "dropped", "webhooks_delivered")
            if k in sandbox_stats
        },
        "poll_seconds": POLL_SECONDS,
    }


def summarise(measured: dict[str, Any]) -> dict[str, Any]:
    """Detection and its components over the broken checks that alerted as expected."""
    scale, timeout = measured["scale"], measured["timeout_seconds_scaled"]
    broken = [c for c in measured["checks"] if c["broken"]]
    alerted = [
        c for c in broken if c["alert"] == FAILED and "alert_received" in c.get("seconds_from_start", {})
    ]
    healthy = [c for c in measured["checks"] if not c["broken"]]

    def components(check: dict[str, Any]) -> dict[str, float]:
        at = check["seconds_from_start"]
        return {
            "start (record, enqueue canary, schedule verification)": at["start_handler"],
            "SQS delay = CANARY_TIMEOUT_SECONDS": float(timeout),
            "verification picked up after the delay": at["verification_received"]
            - at["start_handler"]
            - timeout,
            "verify + publish the alert": at["alert_published"] - at["verification_received"],
            "alert delivered (SNS -> SQS inbox)": at["alert_received"] - at["alert_published"],
        }

    detections = [c["seconds_from_start"]["alert_received"] for c in alerted]
    by_part = [components(c) for c in alerted]
    # nothing alerted: the wait itself stands in, a lower bound (the figure fails: not every check alerted)
    detection = median(detections) if detections else float(timeout + WAIT_AFTER_TIMEOUT_SECONDS)
    overhead = detection - timeout
    return {
        "broken_checks": len(broken),
        "alerted_as_expected": len(alerted),
        "healthy_checks_passed": sum(c["status"] == "passed" for c in healthy),
        "healthy_checks": len(healthy),
        "unexpected_alerts": [
            c["alerts_this_check"]
            for c in measured["checks"]
            if len(c["alerts_this_check"]) != (1 if c["expected_alert"] else 0)
        ],
        "detection_seconds_scaled_run": [round(d, 4) for d in detections],
        "detection_seconds_median_scaled_run": round(detection, 4),
        "overhead_seconds_unscaled": round(overhead, 4),
        "real_time_seconds_if_everything_scaled": round(detection * scale, 1),
        "real_time_seconds_timeout_plus_overhead": round(REAL_TIMEOUT_SECONDS + overhead, 2),
        "components_seconds_median": {
            name: round(median([parts[name] for parts in by_part]), 4)
            for name in (by_part[0] if by_part else {})
        },
        "healthy_canary_latency_ms": [c["canary_latency_ms"] for c in healthy],
    }


def figures(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    broken_checks = 1 if quick else 3
    progress(
        f"health check: {len(plan(broken_checks))} checks alternating healthy / broken (drop_rate 1.0), "
        f"CANARY_TIMEOUT_SECONDS {REAL_TIMEOUT_SECONDS} / {SCALE} (moto + sandbox in-process)"
    )
    measured = measure(broken_checks)
    summary = summarise(measured)
    scaled = summary["real_time_seconds_if_everything_scaled"]
    every_broken_alerted = summary["alerted_as_expected"] == summary["broken_checks"] > 0
    figure = Figure(
        key="health_check.detection_seconds",
        title="Health check: start -> failure alert (loop broken)",
        unit="s (real time)",
        ours=scaled,
        baseline=float(REAL_TIMEOUT_SECONDS),
        baseline_name="the canary timeout itself (120 s); a webhook-only system never detects it",
        target=f"<= {TARGET_SECONDS} s",
        passed=every_broken_alerted and scaled <= TARGET_SECONDS,
        detail={
            "method": "real HealthCheckFunction handler (start, then SQS-delayed verification) against moto "
            f"and the in-process sandbox; timeout {REAL_TIMEOUT_SECONDS} s / {SCALE}; broken = sandbox "
            "drop_rate 1.0; detection = alert received in an SQS queue subscribed to AlertsTopic - start; "
            f"ours = that x {SCALE}",
            "webhook_only_baseline": "never: no error is raised anywhere when a webhook does not arrive",
            **summary,
            "checks": measured["checks"],
            "sandbox": measured["sandbox"],
        },
    )
    return [figure], {"health_check": summary}
