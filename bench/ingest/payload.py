"""Figure 5: the largest payload's stored item, and what an oversized webhook costs over a normal one.

A signed Twilio webhook of 255 KiB (just under the API's 256 KiB body limit) whose text does not compress
(random letters, digits): the stored item's size by DynamoDB's rules (switchboard.dal.item_size), against the
item the code before issue 9 built (text in `body` and again in `raw`: over the 400 KB limit, so every
delivery was answered 503). Then AWS calls and handler time per webhook, normal (one SMS) vs oversized
(its raw payload put in S3 first) vs large but compressible (a long quoted thread: compressed into the
item), each kind `webhooks` times through the same handler and moto in-process, alternating.
"""

from __future__ import annotations

import random
import string
import time
from typing import Any

from bench.ingest.common import REGION, CallCounter, FakeLambdaContext, Figure, median, progress, quiet_stdout
from bench.ingest.webhooks import message_sid, twilio_webhook

BODY_BYTES = 255 * 1024


def _text_for(size: int, make: Any) -> str:
    """Text that makes the Twilio sample's form body `size` bytes (ASCII letters: one byte each)."""
    base = len(twilio_webhook(text="")["body"].encode())
    return str(make(size - base))


def incompressible(length: int) -> str:
    return "".join(random.Random(9).choices(string.ascii_letters + string.digits, k=length))


def compressible(length: int) -> str:
    row = "Quoted line of the earlier thread and its signature "  # letters and spaces: 1 byte in a form
    return (row * (length // len(row) + 1))[:length]


def _stored_size(dynamodb: Any, table: str, sid: str) -> int:
    from switchboard.dal.item_size import item_size

    key = {"pk": {"S": f"EVT#twilio#{sid}"}, "sk": {"S": "MESSAGE"}}
    return item_size(dynamodb.get_item(TableName=table, Key=key)["Item"])


def _old_item_size(event: dict[str, Any]) -> int:
    """The item the store built before: every field plus the whole raw payload as text, never fitted."""
    from switchboard.dal.events_table import to_item
    from switchboard.dal.item_size import item_size
    from switchboard.dal.items import to_attribute_values
    from switchboard.http_api import request_from_event
    from switchboard.providers import ROUTES

    request = request_from_event(event)
    parsed = ROUTES[request.route].parse(request, time.time())
    assert parsed is not None
    return item_size(
        to_attribute_values(to_item(parsed, source="webhook", received_at=time.time(), job=True))
    )


def measure(webhooks: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from bench.ingest.common import set_up_handlers

    context = FakeLambdaContext()
    kinds = {
        "normal": lambda: twilio_webhook(),
        "oversized": lambda: twilio_webhook(text=_text_for(BODY_BYTES, incompressible)),
        "compressible": lambda: twilio_webhook(text=_text_for(BODY_BYTES, compressible)),
    }
    with mock_aws(), quiet_stdout():
        wired = set_up_handlers(boto3.Session(region_name=REGION))
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = wired.stacks.ours.tables["EventsTable"]
        wired.ours(twilio_webhook(), context)  # warm: the secret is read once per container
        largest = kinds["oversized"]()
        sizes = {"before": _old_item_size(largest), "body_bytes": len(largest["body"].encode())}
        results: dict[str, dict[str, list[Any]]] = {kind: {"ms": [], "calls": []} for kind in kinds}
        for _ in range(webhooks):
            for kind, make in kinds.items():
                event = make()
                with CallCounter() as counter:
                    start = time.perf_counter_ns()
                    response = wired.ours(event, context)
                    elapsed = (time.perf_counter_ns() - start) / 1e6
                if response.get("statusCode") != 200:
                    raise RuntimeError(f"{kind} webhook not accepted: {response}")
                results[kind]["ms"].append(elapsed)
                results[kind]["calls"].append(counter.by_operation())
                sizes[kind] = _stored_size(dynamodb, table, message_sid(event))
    return {"sizes": sizes, "results": results}


def figures(quick: bool) -> list[Figure]:
    webhooks = 3 if quick else 20
    progress(
        f"payload size: {webhooks} normal, oversized and compressible 255 KiB webhooks (moto in-process)"
    )
    measured = measure(webhooks)
    sizes, results = measured["sizes"], measured["results"]

    def calls(kind: str) -> float:
        counted = results[kind]["calls"]
        return sum(sum(ops.values()) for ops in counted) / len(counted)

    def ms(kind: str) -> float:
        return float(median(results[kind]["ms"]))

    detail = {
        kind: {
            "median_ms": ms(kind),
            "calls_per_webhook": calls(kind),
            "operations": results[kind]["calls"][0],
        }
        for kind in results
    }
    return [
        Figure(
            key="payload.largest_item_bytes",
            title="Stored item, 255 KiB webhook (bytes)",
            unit="bytes",
            ours=sizes["oversized"],
            baseline=sizes["before"],
            baseline_name="the item stored before issue 9 (text twice)",
            target="< 409,600 (DynamoDB's limit)",
            passed=sizes["oversized"] < 409_600,
            detail={"sizes": sizes},
        ),
        Figure(
            key="payload.calls_oversized",
            title="AWS calls / oversized webhook",
            unit="calls",
            ours=calls("oversized"),
            baseline=calls("normal"),
            baseline_name="a normal webhook, same handler",
            target="normal = 2, oversized = 3 (+ S3 PutObject)",
            passed=calls("normal") == 2 and calls("oversized") == 3 and calls("compressible") == 2,
            detail=detail,
        ),
        Figure(
            key="payload.ms_oversized",
            title="Handler ms / oversized webhook (median)",
            unit="ms",
            ours=ms("oversized"),
            baseline=ms("normal"),
            baseline_name="a normal webhook, same handler",
            target="reported (moto in-process: S3 and DynamoDB answer locally)",
            passed=None,
            detail=detail,
        ),
    ]
