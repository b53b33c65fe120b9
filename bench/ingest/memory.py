"""Figure 4: peak RSS of a fresh process after 1,000 webhooks through our handler.

AWS is moto's ThreadedMotoServer running in *this* (the parent) process, reached over HTTP through
AWS_ENDPOINT_URL, so moto's own memory is not in the child's figure. The baseline is a bare interpreter
that imports boto3 and creates the same three clients; the Powertools-style handler after the same
1,000 webhooks is reported for context, and so is each handler's time from loading to its first response
(the cold-start cost that lazy imports move out of the import figure). Each child runs `runs` times in
rotating order; medians reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.ingest.common import (
    REGION,
    ROOT,
    Figure,
    median,
    progress,
    provision_stacks,
    subprocess_environment,
)

LAMBDA_MEMORY_MB = 128


@contextmanager
def moto_server() -> Iterator[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per AWS call otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _provision(endpoint: str) -> dict[str, str]:
    import boto3

    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        stacks = provision_stacks(boto3.Session(region_name=REGION), prefix="switchboard-bench-memory")
    finally:
        if previous is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous
    return stacks.environment()


def _child(mode: str, webhooks: int, env: dict[str, str]) -> dict[str, Any]:
    from bench.ingest.webhooks import twilio_webhook

    with tempfile.TemporaryDirectory() as scratch:
        out, first = os.path.join(scratch, "result.json"), os.path.join(scratch, "first-event.json")
        with open(first, "w") as event:
            json.dump(twilio_webhook(), event)
        done = subprocess.run(  # noqa: S603 - /bin/sh running our interpreter
            # Through sh, which forks the child: Linux carries the spawning process's peak RSS into the
            # ru_maxrss of a process it execs, and this parent holds moto and both handlers.
            [
                "/bin/sh",
                "-c",
                '"$@"; exit $?',
                "sh",
                sys.executable,
                "-m",
                "bench.ingest._memory_child",
                mode,
                str(webhooks),
                out,
                first,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,  # log lines and EMF metrics
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"memory child {mode} failed:\n{done.stderr}")
        with open(out) as result:
            measured: dict[str, Any] = json.load(result)
    if measured["failures"]:
        raise RuntimeError(f"memory child {mode}: {measured['failures']} webhooks not accepted")
    return measured


def measure(webhooks: int, runs: int) -> dict[str, list[dict[str, Any]]]:
    with moto_server() as endpoint:
        env = subprocess_environment(AWS_ENDPOINT_URL=endpoint, **_provision(endpoint))
        modes = ["ours", "bare", "powertools"]
        results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
        for number in range(runs):
            shift = number % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                results[mode].append(_child(mode, webhooks, env))
    return results


def figures(quick: bool) -> list[Figure]:
    webhooks, runs = (100, 1) if quick else (1000, 3)
    progress(
        f"memory: {webhooks} webhooks in a fresh process per handler, moto server in this one, {runs} run(s)"
    )
    results = measure(webhooks, runs)
    peak = {mode: median([run["peak_mb"] for run in runs_]) for mode, runs_ in results.items()}
    first_response = {
        mode: median([run["checkpoints"]["after_1"]["elapsed_ms"] for run in results[mode]])
        for mode in ("ours", "powertools")
    }
    detail = {
        "webhooks": webhooks,
        "runs": {
            mode: [
                {"peak_mb": run["peak_mb"], "vm_hwm_mb": run["vm_hwm_mb"], "checkpoints": run["checkpoints"]}
                for run in runs_
            ]
            for mode, runs_ in results.items()
        },
        "headroom_mb_in_128mb_function": round(LAMBDA_MEMORY_MB - peak["ours"], 1),
    }
    return [
        Figure(
            key="peak_rss_mb.handler_vs_boto3",
            title=f"Peak RSS after {webhooks} webhooks",
            unit="MB",
            ours=round(peak["ours"], 1),
            baseline=round(peak["bare"], 1),
            baseline_name="interpreter + boto3 + the same 3 clients",
            target=f"ours < {LAMBDA_MEMORY_MB} MB",
            passed=peak["ours"] < LAMBDA_MEMORY_MB,
            detail=detail,
        ),
        Figure(
            key="peak_rss_mb.handler_vs_powertools",
            title=f"Peak RSS after {webhooks} webhooks (context)",
            unit="MB",
            ours=round(peak["ours"], 1),
            baseline=round(peak["powertools"], 1),
            target="-",
            passed=None,
        ),
        Figure(
            key="cold_start_ms.first_response",
            title="Load + first webhook, moto server (context)",
            unit="ms",
            ours=round(first_response["ours"], 1),
            baseline=round(first_response["powertools"], 1),
            target="-",
            passed=None,
            detail={
                "note": "in the memory child, from its first line to the first response (interpreter "
                "start-up excluded); lazy imports (twilio, Powertools parameters) and the secret read land "
                "here; AWS is moto's server in the parent, over HTTP",
                "handler_loaded_ms": {
                    mode: median([run["checkpoints"]["loaded"]["elapsed_ms"] for run in results[mode]])
                    for mode in ("ours", "powertools")
                },
            },
        ),
    ]
