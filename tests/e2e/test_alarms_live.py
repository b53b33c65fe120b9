"""Issue 13's Done-when on the local stack: with sends flowing, `drop_rate 1` in the sandbox (status
callbacks and webhooks no longer reach ingest) raises CallbacksOverdueAlarm - its CloudWatch ALARM
notification in `switchboard alerts list` - within five scaled minutes; after the runbook (callbacks flow
again, `switchboard reconcile run` backfills the missed statuses) it returns to OK with the OK action.

The stack runs 4x with its schedules on: the largest scale at which the whole loop shrinks together
(CALLBACK_OVERDUE_SECONDS 120 -> 30 s, its settings' floor; CallbackWatch and the alarm's period 60 ->
15 s; alarm_evaluator.py), so five scaled minutes are 75 real seconds. The metric goes EMF -> moto's
CloudWatch, and the alarm is evaluated by the local stack as CloudWatch would (emf.py).
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SCALE = 4
FIVE_SCALED_MINUTES = 300 / SCALE
TRAFFIC_EVERY = 8 / SCALE  # a send every 8 scaled seconds
ALARM = 'ALARM: "switchboard-local-CallbacksOverdueAlarm" in US East (N. Virginia)'
OK = 'OK: "switchboard-local-CallbacksOverdueAlarm" in US East (N. Virginia)'


def overdue_alerts(stack: Any) -> list[dict[str, Any]]:
    alerts = stack.cli_json("alerts", "list")["alerts"]
    return [alert for alert in alerts if alert["subject"] in (ALARM, OK)]


def wait_for_alert(stack: Any, subject: str, *, count: int, timeout: float) -> list[dict[str, Any]]:
    """The alarm's alerts once `count` of them have `subject`; fails after `timeout` s with what was seen."""
    deadline = time.monotonic() + timeout
    while True:
        found = overdue_alerts(stack)
        if sum(alert["subject"] == subject for alert in found) >= count:
            return found
        if time.monotonic() > deadline:
            pytest.fail(
                f"no {subject!r} after {timeout:.0f} s; alarm alerts: {[a['subject'] for a in found]}\n"
                f"{stack.log()[-4000:]}"
            )
        time.sleep(1.0)


class Traffic:
    """A send every TRAFFIC_EVERY real seconds onto OutboundQueue (what `switchboard send` enqueues; a
    client here, not a process per send, so the pace holds on a loaded machine), until stopped."""

    def __init__(self, stack: Any) -> None:
        import boto3

        from switchboard_ops.local.environment import DUMMY_CREDENTIALS

        self.stack, self.stop_event, self.sent = stack, threading.Event(), 0
        self.sqs = boto3.Session(
            region_name=stack.state["region"],
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        ).client("sqs", endpoint_url=stack.state["aws_endpoint_url"])
        self.recipient = f"+1415555{random.randint(2000, 9999)}"  # noqa: S311 - not a secret
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        from switchboard.models.outbound import SendRequest

        while not self.stop_event.is_set():
            request = SendRequest(
                send_key=f"alarm-e2e-{uuid.uuid4().hex}",
                provider="twilio",
                sender=self.stack.state["sandbox"]["twilio_numbers"][0],
                recipient=self.recipient,
                body=f"Order update {self.sent}",
                purpose="operator",
            )
            self.sqs.send_message(
                QueueUrl=self.stack.state["queues"]["OutboundQueue"], MessageBody=request.model_dump_json()
            )
            self.sent += 1
            self.stop_event.wait(TRAFFIC_EVERY)

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(60)


def test_dropped_callbacks_raise_the_loop_alarm_within_five_scaled_minutes_and_ok_after_the_runbook(
    stack_launcher, state_dir
):
    # Given a stack 4x faster with its schedules (the CallbackWatch) and alarms on, and sends flowing
    stack = stack_launcher(state_dir, "--time-scale", str(SCALE), "--schedules", "on")
    assert "CallbacksOverdueAlarm" in stack.log().split("not evaluated")[0]
    with Traffic(stack) as traffic:
        time.sleep(120 / SCALE)  # two healthy scaled minutes: callbacks arrive, nothing overdue, no alert
        assert traffic.sent >= 2 and overdue_alerts(stack) == []

        # When the provider's callbacks and webhooks stop reaching ingest
        stack.sandbox("POST", "/sandbox/config", {"drop_rate": 1.0, "callback_drop_rate": 1.0})
        broken_at = time.monotonic()

        # Then CloudWatch's ALARM notification is on AlertsTopic within five scaled minutes
        alerts = wait_for_alert(stack, ALARM, count=1, timeout=FIVE_SCALED_MINUTES)
        detected_after = (time.monotonic() - broken_at) * SCALE
        print(f"CallbacksOverdueAlarm ALARM {detected_after:.0f} scaled s after the break")
        [alarm] = [alert for alert in alerts if alert["subject"] == ALARM]
        message = json.loads(alarm["message"])
        assert (message["NewStateValue"], message["Trigger"]["MetricName"]) == ("ALARM", "CallbacksOverdue")
        assert message["AlarmName"] == "switchboard-local-CallbacksOverdueAlarm"

        # When callbacks flow again and the runbook's reconciliation backfills the missed statuses
        stack.sandbox("POST", "/sandbox/config", {"drop_rate": 0.0, "callback_drop_rate": 0.0})
        reconciled = stack.cli_json("reconcile", "run", "--hours", "1")
        assert reconciled["stats"]["twilio"]["statuses_backfilled"] >= 1, reconciled

        # Then the alarm returns to OK, with its OK notification after the ALARM one
        alerts = wait_for_alert(stack, OK, count=1, timeout=FIVE_SCALED_MINUTES)
        assert [alert["subject"] for alert in alerts][-1] == OK
        assert [alert["subject"] for alert in alerts].index(ALARM) < [a["subject"] for a in alerts].index(OK)
