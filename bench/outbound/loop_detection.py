"""Figure 3: how long from the loop breaking to CallbacksOverdueAlarm, with real traffic flowing.

In-process, moto + the sandbox, the real parts on threads: a traffic thread enqueues a Twilio send every
TRAFFIC_EVERY_SECONDS (scaled); the sender poller runs SenderFunction's Sender (`build_sender()`,
over HTTP to the sandbox, which posts signed status callbacks to a receiver running IngestFunction);
the worker poller runs WorkerFunction's service (the delivery merge ends each send's wait); and every
scaled minute the real HealthCheckFunction handler runs the CallbackWatch schedule's event. The
sender's and the watch's clocks run SCALE times faster than real time, so CALLBACK_OVERDUE_SECONDS
(120 s) and the schedule (60 s) shrink with it; the pipeline's own work does not (conservative).

At T (scaled), after HEALTHY_SECONDS of healthy traffic, the sandbox's callback_drop_rate goes to 1.0
(and drop_rate to 1.0: a webhook URL that no longer reaches ingest loses both). The bench then reads the
EMF lines the watch printed - the alarm's own metric, CallbacksOverdue with the service dimension -
and evaluates CallbacksOverdueAlarm's rule on them: Maximum over 60 s periods > 0, 1 of 1; the alarm
fires at the end of the first breaching period. Detection = that - T. Baseline, measured in the same
run: the canary's worst case, the hourly schedule (3600 s) + its start -> alert time (figure 2's method).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import threading
import time
from typing import Any

from bench.ingest.common import Figure, progress, quiet_stdout
from bench.outbound.common import (
    HealthContext,
    Tally,
    build_sender,
    environment,
    outbound_stack,
    poll_until_empty,
)

SCALE = 20  # 1 scaled minute = 3 real seconds: room for the pipeline's own (unscaled) work on 2 cores
OVERDUE_SECONDS = 120  # template.yaml: CALLBACK_OVERDUE_SECONDS
WATCH_EVERY_SECONDS = 60  # template.yaml: CallbackWatch rate(1 minute)
ALARM_PERIOD_SECONDS = 60  # template.yaml: CallbacksOverdueAlarm Period, 1 of 1, Maximum > 0
TRAFFIC_EVERY_SECONDS = 20  # one send every 20 s: a quiet business line still closes the loop
HEALTHY_SECONDS = 300
BROKEN_LIMIT_SECONDS = 900  # give up (undetected) after 15 scaled minutes
CANARY_PERIOD_SECONDS = 3600  # template.yaml: HealthCheckFunction Hourly
TARGET_SECONDS = 300


class ScaledClock:
    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.restart()

    def restart(self) -> None:
        """Scaled time 0 = now."""
        self.origin_real = time.perf_counter()
        self.origin = time.time()

    def __call__(self) -> float:
        return self.origin + (time.perf_counter() - self.origin_real) * self.scale

    def elapsed(self) -> float:
        return self() - self.origin

    def sleep_until(self, scaled_elapsed: float, stop: threading.Event) -> bool:
        """Wait (really) until `scaled_elapsed` from the origin; False if stopped first."""
        wait = (scaled_elapsed - self.elapsed()) / self.scale
        return not stop.wait(max(0.0, wait))


def overdue_datapoints(emf: str) -> list[float]:
    """CallbacksOverdue values the alarm sees (service dimension only; the by-provider lines excluded)."""
    values = []
    for line in emf.splitlines():
        if '"CallbacksOverdue"' not in line:
            continue
        document = json.loads(line)
        if "provider" in document:
            continue
        value = document["CallbacksOverdue"]
        values.append(float(sum(value) if isinstance(value, list) else value))
    return values


def alarm_fires_at(datapoints: list[tuple[float, float]], threshold: float = 0.0) -> float | None:
    """CallbacksOverdueAlarm's rule over (scaled elapsed, value): the end of the first 60 s period whose
    Maximum exceeds the threshold, or None."""
    breaching = [at for at, value in datapoints if value > threshold]
    if not breaching:
        return None
    return (math.floor(min(breaching) / ALARM_PERIOD_SECONDS) + 1) * ALARM_PERIOD_SECONDS


def measure(scale: int = SCALE, healthy_seconds: int = HEALTHY_SECONDS) -> dict[str, Any]:
    from switchboard.models.outbound import SendRequest
    from switchboard.services import callback_watch as watch_module
    from switchboard.services import worker as worker_module
    from switchboard_ops.project import load_event, load_handler

    with quiet_stdout(), outbound_stack(ingest=True, status_delay=0.0) as stack:
        env = {
            **stack.sender_environment(twilio_rate=50.0, openphone_rate=10.0),
            "HEALTH_VERIFY_QUEUE_URL": stack.queue("HealthVerifyQueue"),
            "ALERTS_TOPIC_ARN": stack.resources.topics["AlertsTopic"],
            "CALLBACK_OVERDUE_SECONDS": str(OVERDUE_SECONDS),
        }
        with environment(**env):
            from switchboard.function_settings import worker_settings

            worker_settings.cache_clear()
            clock = ScaledClock(scale)
            health = load_handler("health_check").handler
            watch = watch_module.default_callback_watch()
            watch.clock = clock
            sender = build_sender(Tally())
            sender.clock = clock
            worker = worker_module.default_worker()
            stop = threading.Event()
            sent: list[float] = []
            datapoints: list[tuple[float, float]] = []
            broken_at: list[float] = []

            def traffic() -> None:
                n = 0
                while clock.sleep_until(n * TRAFFIC_EVERY_SECONDS, stop):
                    request = SendRequest(
                        send_key=f"bench-loop-{n}",
                        provider="twilio",
                        sender="+14155550100",
                        recipient="+14155550123",
                        body=f"Reminder {n}",
                    )
                    stack.sqs.send_message(
                        QueueUrl=stack.queue("OutboundQueue"), MessageBody=request.model_dump_json()
                    )
                    sent.append(clock.elapsed())
                    n += 1

            def watcher() -> None:
                n = 1
                event = load_event("health_check/callback_watch")
                while clock.sleep_until(n * WATCH_EVERY_SECONDS, stop):
                    buffer = io.StringIO()
                    with contextlib.redirect_stdout(buffer):
                        health(event, HealthContext())
                    at = clock.elapsed()
                    datapoints.extend((at, value) for value in overdue_datapoints(buffer.getvalue()))
                    n += 1

            threads = [
                threading.Thread(target=traffic, name="traffic", daemon=True),
                threading.Thread(target=watcher, name="watch", daemon=True),
                threading.Thread(
                    target=lambda: poll_until_empty(
                        stack.sqs, stack.queue("OutboundQueue"), sender.handle, stop=stop, idle_wait=0.02
                    ),
                    name="sender",
                    daemon=True,
                ),
                threading.Thread(
                    target=lambda: poll_until_empty(
                        stack.sqs,
                        stack.queue("ProcessingQueue"),
                        worker.handle,
                        batch_size=10,
                        stop=stop,
                        idle_wait=0.02,
                    ),
                    name="worker",
                    daemon=True,
                ),
            ]
            clock.restart()  # scaled time 0 = the threads start, not the imports before
            for thread in threads:
                thread.start()
            try:
                clock.sleep_until(healthy_seconds, threading.Event())
                stack.sandbox.configure(callback_drop_rate=1.0, drop_rate=1.0)
                broken_at.append(clock.elapsed())
                deadline = broken_at[0] + BROKEN_LIMIT_SECONDS
                while (
                    clock.elapsed() < deadline
                    and alarm_fires_at([d for d in datapoints if d[0] >= broken_at[0]]) is None
                ):
                    time.sleep(0.05)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(10)
            sandbox = stack.sandbox.stats()
    healthy = [d for d in datapoints if d[0] < broken_at[0]]
    after = [d for d in datapoints if d[0] >= broken_at[0]]
    fires = alarm_fires_at(after)
    first = next((at for at, value in after if value > 0), None)
    return {
        "scale": scale,
        "broken_at_seconds": round(broken_at[0], 1),
        "sends": len(sent),
        "sends_after_break": sum(1 for at in sent if at >= broken_at[0]),
        "healthy_datapoints": [(round(at, 1), value) for at, value in healthy],
        "healthy_false_alarm": alarm_fires_at(healthy) is not None,
        "datapoints_after_break": [(round(at, 1), value) for at, value in after],
        "first_overdue_datapoint_seconds": None if first is None else round(first - broken_at[0], 1),
        "alarm_fires_seconds_after_break": None if fires is None else round(fires - broken_at[0], 1),
        "sandbox": {k: sandbox[k] for k in ("sent", "dropped", "webhooks_delivered") if k in sandbox},
    }


def figures(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    from bench.outbound import detection

    healthy = 120 if quick else HEALTHY_SECONDS
    progress(
        f"loop: Twilio send every {TRAFFIC_EVERY_SECONDS} s, callbacks watched every {WATCH_EVERY_SECONDS} s,"
        f" break after {healthy} s (callback_drop_rate 1, drop_rate 1); time x{SCALE} (moto + sandbox)"
    )
    loop = measure(SCALE, healthy)
    progress("loop: the canary's start -> alert in the same run (figure 2's harness, one broken check)")
    canary = detection.summarise(detection.measure(1, scale=SCALE))
    canary_worst = CANARY_PERIOD_SECONDS + canary["real_time_seconds_if_everything_scaled"]
    ours = loop["alarm_fires_seconds_after_break"]
    figure = Figure(
        key="loop.detection_seconds",
        title="Broken loop -> CallbacksOverdueAlarm (traffic flowing)",
        unit="s (real time)",
        ours=float(ours if ours is not None else BROKEN_LIMIT_SECONDS),
        baseline=round(canary_worst, 1),
        baseline_name="the hourly canary's worst case: 3600 s + its start -> alert, measured in this run",
        target=f"<= {TARGET_SECONDS} s, no alarm while healthy",
        passed=ours is not None and ours <= TARGET_SECONDS and not loop["healthy_false_alarm"],
        detail={
            "method": "real Sender, IngestFunction (callbacks), the worker merge, HealthCheckFunction's "
            f"CallbackWatch event against moto and the in-process sandbox; clocks x{SCALE}; alarm rule "
            "evaluated on the watch's own EMF datapoints (Maximum per 60 s > 0)",
            **loop,
            "canary_start_to_alert_seconds": canary["real_time_seconds_if_everything_scaled"],
        },
    )
    return [figure], {"loop": {**loop, "canary_worst_case_seconds": round(canary_worst, 1)}}
