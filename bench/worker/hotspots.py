"""Where the worker's handler time goes: a cProfile of each worker's drain, and a table-size probe.

Not a figure (profiling distorts timings); it explains the figures. For each worker and each moto mode
(as shipped, per-item rollback) a fresh moto is seeded with `seeded` jobs and `profiled` of them are
drained under cProfile (handler calls only). Self time is grouped by where the code lives (moto's
expression parser, moto's request/response layer, copy.deepcopy, botocore, Powertools, switchboard, ...).

The probe drains the first `probe_jobs` jobs with the events table pre-seeded at two sizes, moto as
shipped: a per-job cost that grows with the table is moto's, not the handler's.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
from typing import Any

from bench.ingest.common import REGION, median, progress, quiet_stdout
from bench.worker import mix
from bench.worker.common import SIDES, WorkerContext, drain, poll, seed, set_up_workers
from switchboard_ops.local.moto_patches import per_item_rollback

# First match wins: (substring of the file path, area)
_AREAS = (
    ("moto/dynamodb/parsing", "moto: expression parsing"),
    ("moto/dynamodb/comparisons", "moto: expression parsing"),
    ("moto/dynamodb/models", "moto: DynamoDB model"),
    ("moto/", "moto: request/response"),
    ("werkzeug/", "moto: request/response"),  # moto builds each request with werkzeug
    ("/copy.py", "copy.deepcopy (called by moto)"),
    ("botocore/", "botocore"),
    ("boto3/", "boto3 (TypeSerializer)"),
    ("aws_lambda_powertools/", "Powertools"),
    ("jmespath/", "jmespath (Powertools idempotency)"),
    ("shared/switchboard/", "switchboard"),
    ("bench/worker/", "bench (baseline's own code, shim)"),
    ("switchboard_ops/local/moto_patches", "bench (baseline's own code, shim)"),
    ("pydantic", "pydantic"),
    ("/json/", "json"),
    ("/logging/", "logging"),
    ("/re/", "re"),
)


def _area(filename: str) -> str:
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (caller unknown)"
    for fragment, area in _AREAS:
        if fragment in filename:
            return area
    return "other stdlib"


def _grouped(profile: cProfile.Profile, jobs: int) -> dict[str, Any]:
    """Self time by area; a built-in's (isinstance, dict.get, ...) goes to the areas of its callers."""
    stats = pstats.Stats(profile)
    total = stats.total_tt  # type: ignore[attr-defined]
    areas: dict[str, float] = {}
    functions = []
    for (filename, line, name), (_, _, self_time, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        functions.append((self_time, f"{filename.rsplit('site-packages/', 1)[-1]}:{line}({name})"))
        if filename == "~" and callers:
            edges = {caller: edge[2] for caller, edge in callers.items()}
            spent = sum(edges.values()) or 1.0
            for (caller_file, _, _), edge_time in edges.items():
                area = _area(caller_file)
                areas[area] = areas.get(area, 0.0) + self_time * edge_time / spent
            continue
        area = _area(filename)
        areas[area] = areas.get(area, 0.0) + self_time
    functions.sort(reverse=True)
    deepcopy = next(
        (
            cumulative
            for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
            if filename.endswith("/copy.py") and name == "deepcopy"
        ),
        0.0,
    )
    return {
        "jobs": jobs,
        "profiled_ms_per_job": round(total * 1e3 / jobs, 3),
        "self_time_share_by_area": {
            area: round(seconds / total, 3) for area, seconds in sorted(areas.items(), key=lambda kv: -kv[1])
        },
        "deepcopy_cumulative_share": round(deepcopy / total, 3),
        "top_functions_by_self_ms_per_job": [
            {"self_ms_per_job": round(seconds * 1e3 / jobs, 3), "function": where}
            for seconds, where in functions[:8]
        ],
    }


def _profiled(mode: str, seeded: int, profiled: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    shim = per_item_rollback() if mode == "per_item_rollback" else contextlib.nullcontext()
    context = WorkerContext()
    out = {}
    with mock_aws(), shim, quiet_stdout():
        workers = set_up_workers(boto3.Session(region_name=REGION))
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        warm = mix.generate(10, seed=11, start_at=mix.START_AT - 86_400)
        seeds = mix.generate(seeded)
        for name, side in workers.sides().items():
            seed(side, warm, dynamodb, sqs)
            drain(side, sqs, context)
            seed(side, seeds, dynamodb, sqs)
            profile = cProfile.Profile()
            jobs = 0
            while jobs < profiled and (done := poll(side, sqs, context, around_handler=profile)).jobs:
                jobs += done.jobs
            out[name] = _grouped(profile, jobs)
    return out


def _probe(sizes: tuple[int, ...], probe_jobs: int) -> dict[str, Any]:
    """ms per job over the first `probe_jobs` jobs, the events table pre-seeded with `size` records."""
    import boto3
    from moto import mock_aws

    context = WorkerContext()
    out: dict[str, Any] = {name: {} for name in SIDES}
    for size in sizes:
        with mock_aws(), quiet_stdout():
            workers = set_up_workers(boto3.Session(region_name=REGION))
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            seeds = mix.generate(size)
            for name, side in workers.sides().items():
                seed(side, seeds, dynamodb, sqs)
                per_job, jobs = [], 0
                while jobs < probe_jobs and (done := poll(side, sqs, context)).jobs:
                    jobs += done.jobs
                    per_job.append(done.handler_ns / 1e6 / done.jobs)
                out[name][str(size)] = round(median(per_job[1:] or per_job), 3)  # the first poll warms up
    return out


def hotspots(quick: bool) -> dict[str, Any]:
    seeded, profiled = (60, 30) if quick else (400, 100)
    sizes, probe_jobs = ((50, 200), 30) if quick else ((100, 1000), 50)
    result: dict[str, Any] = {
        "method": f"cProfile of the handler calls only: {profiled} jobs drained per worker after {seeded} "
        f"were seeded; self time grouped by where the code lives",
    }
    for mode in ("moto", "per_item_rollback"):
        progress(f"profile ({mode}): {profiled} of {seeded} seeded jobs per worker under cProfile")
        result[mode] = _profiled(mode, seeded, profiled)
    progress(f"table-size probe: first {probe_jobs} jobs with {' and '.join(map(str, sizes))} records stored")
    result["ms_per_job_by_events_table_size"] = {
        "method": f"median ms per job over the first {probe_jobs} jobs, moto as shipped, events table "
        "pre-seeded with that many records",
        **_probe(sizes, probe_jobs),
    }
    return result
