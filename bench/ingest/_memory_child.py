"""Memory figure's child: `python -m bench.ingest._memory_child MODE WEBHOOKS OUT.json [FIRST_EVENT.json]`.

MODE `bare` imports boto3 and creates the three clients; `ours` / `powertools` load that handler by file,
create the same clients and send WEBHOOKS signed webhooks through it (every 10th a resend of the one
before: a duplicate) to the moto server named by AWS_ENDPOINT_URL. Writes peak RSS (ru_maxrss) to
OUT.json, with the resident set and the time since start at checkpoints: handler loaded, and after the
first webhook (read from FIRST_EVENT.json, so that nothing but the handler imports twilio before it
runs). Only the standard library is imported beyond what the handler needs; webhooks are built one at
a time."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from typing import Any

SERVICES = ("dynamodb", "sqs", "secretsmanager")


def _mb_now() -> float | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return None


def _mb_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _mb_hwm() -> float | None:
    """VmHWM: this process image's own peak, a cross-check that ru_maxrss carries no parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _handler(mode: str) -> Any:
    if mode == "ours":
        from switchboard.dal import aws
        from switchboard_ops.project import load_handler

        module = load_handler("ingest")
        for service in SERVICES:
            aws.client(service)
        return module.handler
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().with_name("baseline_app.py")
    spec = importlib.util.spec_from_file_location("baseline_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


class _Context:
    function_name = "IngestFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    memory_limit_in_mb = 128
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/IngestFunction"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def main(mode: str, webhooks: int, out: str, first_event_path: str | None = None) -> int:
    first_event = None
    if first_event_path:  # built by the parent: signing it here would import twilio before the handler does
        with open(first_event_path) as source:
            first_event = json.load(source)
    started = time.perf_counter()

    def checkpoint() -> dict[str, float | None]:
        return {
            "rss_mb": _mb_now(),
            "peak_mb": _mb_peak(),
            "elapsed_ms": (time.perf_counter() - started) * 1e3,
        }

    checkpoints = {"start": checkpoint()}
    failures = 0
    if mode == "bare":
        import boto3

        for service in SERVICES:
            boto3.client(service)
        checkpoints["clients"] = checkpoint()
    else:
        handler = _handler(mode)
        context = _Context()
        checkpoints["loaded"] = checkpoint()
        previous = json.dumps(first_event) if first_event else None
        for number in range(1, webhooks + 1):
            if number == 1 and first_event is not None:
                event = first_event
            elif number % 10 == 0 and previous is not None:
                event = json.loads(previous)
            else:
                from bench.ingest.webhooks import twilio_webhook

                event = twilio_webhook()
                previous = json.dumps(event)
            if handler(event, context).get("statusCode") != 200:
                failures += 1
            if number in (1, 10, 100) or number == webhooks:
                checkpoints[f"after_{number}"] = checkpoint()
    with open(out, "w") as result:
        json.dump(
            {
                "mode": mode,
                "peak_mb": _mb_peak(),
                "vm_hwm_mb": _mb_hwm(),
                "failures": failures,
                "checkpoints": checkpoints,
            },
            result,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:5]))
