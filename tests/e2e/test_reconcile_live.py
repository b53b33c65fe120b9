"""`switchboard reconcile run` on a local stack of its own: the sandbox drops a seeded 10 % of inbound
webhooks, reconciliation backfills exactly the dropped ones from the sandbox's Twilio list (none
missing, none duplicated), the worker processes every backfilled message, and a second run finds
nothing new. A stack of its own, so the drop rate and the run lock touch no other test."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from switchboard_ops.local.environment import DUMMY_CREDENTIALS

pytestmark = pytest.mark.e2e

MESSAGES = 500
DROP_RATE = 0.1
SEED = 7
POSTERS = 16
PROCESSED_WITHIN = 45  # seconds, for the worker to process every backfilled message


def table_messages(stack: Any) -> dict[str, dict[str, Any]]:
    """Every stored twilio message record (sk MESSAGE), by provider message id: a scan of moto's table."""
    import boto3

    state = stack.state
    dynamodb = boto3.Session(
        region_name=state["region"],
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).client("dynamodb", endpoint_url=state["aws_endpoint_url"])
    request: dict[str, Any] = {
        "TableName": state["table_name"],
        "FilterExpression": "begins_with(pk, :prefix) AND sk = :message",
        "ExpressionAttributeValues": {":prefix": {"S": "EVT#twilio#"}, ":message": {"S": "MESSAGE"}},
        "ProjectionExpression": "pk, job_state",
    }
    found: dict[str, dict[str, Any]] = {}
    while True:
        page = dynamodb.scan(**request)
        for item in page["Items"]:
            sid = item["pk"]["S"].split("#", 2)[2]
            assert sid not in found, f"{sid} stored twice"
            found[sid] = {"job_state": item.get("job_state", {}).get("S")}
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_reconciliation_backfills_exactly_the_dropped_webhooks(stack_launcher: Any, state_dir: Path) -> None:
    started = time.monotonic()
    stack = stack_launcher(state_dir)
    up = time.monotonic()
    stack.sandbox("POST", "/sandbox/config", {"drop_rate": DROP_RATE, "seed": SEED})
    ours = stack.state["sandbox"]["twilio_numbers"][0]
    session = requests.Session()

    def inbound(index: int) -> dict[str, Any]:
        payload = {
            "provider": "twilio",
            "from": f"+1415556{index:04d}",
            "to": ours,
            "body": f"reconcile e2e message {index}: {'x' * (index % 40)}",
        }
        response = session.post(f"{stack.sandbox_url}/sandbox/inbound", json=payload, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    with ThreadPoolExecutor(POSTERS) as pool:
        results = list(pool.map(inbound, range(MESSAGES)))
    posted = time.monotonic()
    dropped = {result["sid"] for result in results if result["dropped"]}
    delivered = {result["sid"] for result in results if result["delivered"]}
    assert 0 < len(dropped) < MESSAGES * DROP_RATE * 2, f"{len(dropped)} dropped of {MESSAGES}"
    assert len(dropped) + len(delivered) == MESSAGES, [
        r for r in results if not r["dropped"] and not r["delivered"]
    ]

    listed = {
        message["id"]
        for message in stack.sandbox("GET", "/sandbox/messages?provider=twilio")["messages"]
        if message["direction"] == "inbound"
    }
    assert listed == dropped | delivered
    before = table_messages(stack)
    assert set(before) == delivered, (
        f"missing {len(delivered - set(before))}, extra {set(before) - delivered}"
    )

    result = stack.cli("reconcile", "run", "--hours", "1", "--json")
    assert result.returncode == 0, f"{result.returncode}: {result.stderr}\n{stack.log()[-3000:]}"
    summary = json.loads(result.stdout)
    reconciled = time.monotonic()
    twilio = summary["stats"]["twilio"]
    assert summary["status"] == "completed"
    assert twilio["messages_processed"] == MESSAGES, twilio
    assert twilio["new_messages"] == len(dropped), twilio
    assert twilio["existing_messages"] == len(delivered), twilio
    assert twilio["errors"] == 0, twilio

    after = table_messages(stack)  # asserts no sid is stored twice
    assert set(after) == listed, f"missing {listed - set(after)}, extra {set(after) - listed}"
    assert len(after) == len(listed) == MESSAGES

    deadline = time.monotonic() + PROCESSED_WITHIN
    while True:
        states = table_messages(stack)
        waiting = {
            sid: states[sid]["job_state"] for sid in dropped if states[sid]["job_state"] != "PROCESSED"
        }
        if not waiting:
            break
        assert time.monotonic() < deadline, (
            f"{len(waiting)} backfilled messages not PROCESSED after {PROCESSED_WITHIN} s: "
            f"{list(waiting.items())[:5]}\n{stack.log()[-3000:]}"
        )
        time.sleep(0.5)
    one = sorted(dropped)[0]
    assert stack.message("twilio", one)["job_state"] == "PROCESSED"
    processed = time.monotonic()

    again = stack.cli_json("reconcile", "run", "--hours", "1")
    assert again["status"] == "completed"
    assert again["stats"]["twilio"]["new_messages"] == 0, again["stats"]
    assert again["stats"]["twilio"]["existing_messages"] == MESSAGES, again["stats"]

    runs = stack.cli_json("reconcile", "runs", "--limit", "5")
    assert [run["totals"]["new_messages"] for run in runs[:2]] == [0, len(dropped)]
    print(
        f"\nreconcile e2e: {MESSAGES} posted ({len(dropped)} dropped) in {posted - started:.1f} s "
        f"(stack start {up - started:.1f} s), run 1 in {reconciled - posted:.1f} s, processed by "
        f"{processed - reconciled:.1f} s later, total {time.monotonic() - started:.1f} s"
    )


def test_a_run_that_checkpoints_at_every_page_continues_through_its_queue_until_done(
    stack_launcher: Any, state_dir: Path
) -> None:
    """RECONCILE_SAFETY_MS above the function's whole timeout: every page with a next one ends the
    invocation in a checkpoint, handed to ReconcileContinuationQueue, which the stack polls like any
    event source; the CLI follows the run's record to the end."""
    stack = stack_launcher(
        state_dir, "--time-scale", "60", "--schedules", "off", "--env", "RECONCILE_SAFETY_MS=900000"
    )
    stack.sandbox("POST", "/sandbox/config", {"drop_rate": 1.0})
    ours = stack.state["sandbox"]["twilio_numbers"][0]
    count = 250  # three pages of Twilio's 100
    for index in range(count):
        response = requests.post(
            f"{stack.sandbox_url}/sandbox/inbound",
            json={"provider": "twilio", "from": f"+1415557{index:04d}", "to": ours, "body": f"m {index}"},
            timeout=30,
        )
        assert response.status_code == 200 and response.json()["dropped"], response.text

    result = stack.cli("reconcile", "run", "--hours", "1", "--provider", "twilio", "--json")

    assert result.returncode == 0, f"{result.returncode}: {result.stderr}\n{stack.log()[-3000:]}"
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed", summary
    assert summary["stats"]["twilio"]["pages"] == 3
    assert summary["stats"]["twilio"]["new_messages"] == count
    assert summary["stats"]["twilio"]["existing_messages"] == 0  # no page listed twice
    assert summary["segments"] == 3  # one invocation per page: two continuations through the queue
    run = stack.cli_json("reconcile", "runs", "--limit", "1")[0]
    assert run["status"] == "completed"
    assert len(table_messages(stack)) == count


def test_openphone_messages_are_backfilled_from_conversations_the_run_discovers(
    stack_launcher: Any, state_dir: Path
) -> None:
    """The local stack reconciles both providers; OpenPhone's list is per conversation, so the run finds
    the conversations first (/v1/conversations), with nothing configured."""
    stack = stack_launcher(state_dir)
    stack.sandbox("POST", "/sandbox/config", {"drop_rate": 0.3, "seed": SEED})
    business = "+14155559876"  # the sandbox's OpenPhone number
    dropped = 0
    for index in range(60):
        payload = {
            "provider": "openphone",
            "from": f"+1415558{index % 6:04d}",
            "to": business,
            "body": f"o {index}",
        }
        response = requests.post(f"{stack.sandbox_url}/sandbox/inbound", json=payload, timeout=30)
        assert response.status_code == 200, response.text
        dropped += bool(response.json()["dropped"])
    assert 0 < dropped < 60

    first = stack.cli_json("reconcile", "run", "--hours", "1")
    again = stack.cli_json("reconcile", "run", "--hours", "1")

    openphone = first["stats"]["openphone"]
    assert first["status"] == "completed" and openphone["errors"] == 0, first
    assert openphone["messages_processed"] == 60
    assert openphone["new_messages"] == dropped
    assert again["stats"]["openphone"]["new_messages"] == 0
