"""bench/outbound's harnesses do what their figures claim. Functional checks only: counts and verdicts,
never a timing (the machine is shared and noisy).

- a naive sender (SenderFunction's Sender without its token buckets) bursting at the sandbox gets 429s,
  and SenderFunction's retry path keeps each 429'd request for a later attempt;
- the Sender as wired (two of them, SENDER_CONCURRENCY=2, each its own bucket) does not, over a burst
  several times the provider's per-second budget: the buckets' arithmetic guarantees it on any machine;
- the detection harness, with the sandbox dropping every inbound webhook, reports the health check's
  failure alert, and a healthy loop passes;
- the loop harness sees no overdue callback while the loop works, and CallbacksOverdue (the alarm's
  rule, evaluated on the watch's own EMF datapoints) once the sandbox drops every callback.
"""

from __future__ import annotations

import sys
from typing import Any

from switchboard_ops.project import ROOT

if str(ROOT) not in sys.path:  # bench/ sits beside tests/, outside the installed packages
    sys.path.insert(0, str(ROOT))

from bench.outbound import detection, loop_detection, throughput  # noqa: E402
from bench.outbound.common import environment, outbound_stack  # noqa: E402


def burst(rate: float, count: int, *, naive: bool) -> dict[str, Any]:
    """`count` OpenPhone sends drained by two pollers against a sandbox limited to `rate` requests/s."""
    with (
        outbound_stack(openphone_rate=rate, twilio_rate=1000.0) as stack,
        environment(**stack.sender_environment(twilio_rate=50.0, openphone_rate=rate)),
    ):
        return throughput.run_burst(stack, "openphone", count, naive=naive)


def test_a_naive_sender_bursting_at_the_sandbox_gets_429s_and_keeps_them_for_a_retry():
    # 12 sends against 2 requests/s (a bucket of 2): fewer than all get through unless the naive
    # sender takes over 5 s for 12 sends
    result = burst(2.0, 12, naive=True)

    assert result["sandbox_429s"] > 0
    assert result["sender_saw"]["rate_limited"] == result["sandbox_429s"]
    assert result["accepted"] == result["outcomes"]["sent"] == 12 - result["sandbox_429s"]
    assert result["raised"] == {"SendUnavailable": result["sandbox_429s"]}  # SQS redelivers these
    assert result["left_in_queue_for_retry"] == result["sandbox_429s"]
    assert result["limits_per_sender"]["openphone"]["rate_per_second"] is None


def test_the_sender_as_wired_sends_a_burst_without_a_single_429():
    # Each of the two Senders takes 4 / SENDER_CONCURRENCY = 2 tokens a second, one at a time: at most
    # 2 + 4t sends in any t seconds, under the sandbox's 4 + 4t
    result = burst(4.0, 12, naive=False)

    assert result["sandbox_429s"] == 0
    assert result["sender_saw"]["unavailable"] == result["sender_saw"]["other_errors"] == 0
    assert result["accepted"] == 12
    assert result["outcomes"] == {"sent": 12}
    assert result["sandbox_stats"]["sent"] == 12
    assert result["limits_per_sender"]["openphone"] == {"rate_per_second": 2.0, "capacity": 1}


def test_the_detection_harness_reports_the_failure_alert_for_a_dropped_canary():
    measured = detection.measure(1, scale=120)  # healthy, broken (drop_rate 1.0), healthy; 1 s timeout

    healthy, broken, recovered = measured["checks"]
    assert (broken["broken"], broken["status"]) == (True, "failed")
    assert broken["webhooks_dropped"] >= 1
    assert broken["alert"] == detection.FAILED
    assert broken["alerts_this_check"] == [detection.FAILED]
    assert "alert_received" in broken["seconds_from_start"]
    assert (healthy["status"], healthy["alerts_this_check"]) == ("passed", [])
    assert (recovered["status"], recovered["alert"]) == ("passed", detection.RECOVERED)
    summary = detection.summarise(measured)
    assert (summary["alerted_as_expected"], summary["broken_checks"]) == (1, 1)
    assert summary["unexpected_alerts"] == []


def test_the_loop_harness_alarms_only_after_the_callbacks_stop():
    measured = loop_detection.measure(scale=20, healthy_seconds=130)

    assert measured["healthy_datapoints"] and not measured["healthy_false_alarm"]
    assert {value for _, value in measured["healthy_datapoints"]} == {0.0}
    assert measured["sends_after_break"] >= 1 and measured["sandbox"]["dropped"] >= 1
    assert measured["alarm_fires_seconds_after_break"] is not None


def test_the_alarm_rule_fires_at_the_end_of_the_first_breaching_period():
    assert loop_detection.alarm_fires_at([(30.0, 0.0), (90.0, 0.0), (150.0, 2.0), (210.0, 5.0)]) == 180
    assert loop_detection.alarm_fires_at([(30.0, 0.0), (90.0, 0.0)]) is None


def test_only_the_total_emf_line_is_the_alarms_datapoint():
    lines = [
        '{"_aws": {}, "service": "switchboard", "provider": "twilio", "CallbacksOverdue": [4.0]}',
        '{"_aws": {}, "service": "switchboard", "CallbacksOverdue": [4.0]}',
        '{"_aws": {}, "service": "switchboard", "MessagesSent": [1.0]}',
    ]

    assert loop_detection.overdue_datapoints("\n".join(lines)) == [4.0]
