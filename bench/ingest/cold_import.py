"""Figure 3: cold import of a handler plus its AWS clients, each in a fresh interpreter.

Four snippets, each run `runs` times in rotating order (after one untimed run of each to write .pyc):
- ours: functions/ingest/app.py loaded with spec_from_file_location, then switchboard.dal.aws.client() for
  dynamodb, sqs and secretsmanager (ours creates them lazily; Lambda pays for them on the first webhook);
- bare (the baseline): `import boto3` and the same three clients;
- required (context): bare plus what the conventions require of every handler before any first-party
  code: pydantic with one model, Powertools Logger and Metrics. Ours over it is our own code's cost;
  it over bare is the floor no first-party change can go under (docs/adr/0012);
- Powertools-style handler (context): bench/ingest/baseline_app.py loaded the same way (its clients are
  module-level).
Timed inside the interpreter from the first import to the last client (interpreter start-up is the same
for all three and left out); the whole process wall time is kept in the JSON. One extra run of ours under
`-X importtime` lists the costliest imports.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.ingest.common import (
    BASELINE_APP,
    CLIENT_SERVICES,
    ROOT,
    Figure,
    median,
    progress,
    spread,
    subprocess_environment,
)

REPORT = (
    "_t2 = time.perf_counter()\n"
    "import json\n"
    "print(json.dumps({'import_ms': (_t1 - _t0) * 1e3, 'clients_ms': (_t2 - _t1) * 1e3,"
    " 'total_ms': (_t2 - _t0) * 1e3}))\n"
)


def prelude() -> str:
    return "import time\n_t0 = time.perf_counter()\n"


def client_lines(create: str) -> str:
    """One line per client: `create` is `boto3.client` or `aws.client`."""
    return "".join(f"{create}({service!r})\n" for service in CLIENT_SERVICES)


def load_by_file(name: str, path: str) -> str:
    return (
        "import importlib.util\n"
        f"_spec = importlib.util.spec_from_file_location({name!r}, {path!r})\n"
        "_module = importlib.util.module_from_spec(_spec)\n"
        "_spec.loader.exec_module(_module)\n"
    )


def ingest_snippet(app_path: Path) -> str:
    """IngestFunction's app.py loaded from app_path, then the clients it creates on its first webhook."""
    return (
        prelude()
        + load_by_file("functions.ingest.app", str(app_path))
        + "_t1 = time.perf_counter()\n"
        + "from switchboard.dal import aws\n"
        + client_lines("aws.client")
        + REPORT
    )


SNIPPETS = {
    "ours": ingest_snippet(ROOT / "functions" / "ingest" / "app.py"),
    "bare": prelude()
    + "import boto3\n"
    + "_t1 = time.perf_counter()\n"
    + client_lines("boto3.client")
    + REPORT,
    # One BaseModel pulls in all of pydantic that ours imports; Logger pulls in jmespath_utils, which
    # ours' correlation_id_path uses. No third-party module ours imports is missing (docs/adr/0012).
    "required": prelude()
    + "import boto3\n"
    + "from pydantic import BaseModel\n"
    + "from aws_lambda_powertools import Logger, Metrics\n"
    + "from aws_lambda_powertools.logging import correlation_paths\n"
    + "from aws_lambda_powertools.utilities.typing import LambdaContext\n"
    + "class Settings(BaseModel):\n    table_name: str = ''\n"
    + "logger, metrics = Logger(service='required'), Metrics(namespace='Required', service='required')\n"
    + "_t1 = time.perf_counter()\n"
    + client_lines("boto3.client")
    + REPORT,
    # Its clients are created at import: `import_ms` holds everything, `clients_ms` is ~0.
    "powertools": prelude()
    + load_by_file("baseline_app", str(BASELINE_APP))
    + "_t1 = time.perf_counter()\n"
    + REPORT,
}

# baseline_app reads its resource names at import; any names do, nothing is called. Bytecode may be written
# (the untimed first run writes it): the deployed build ships it too (docs/adr/0019).
ENVIRONMENT = subprocess_environment(
    TABLE_NAME="bench-events",
    PROCESSING_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/bench-processing",
    WEBHOOK_SECRETS_NAME="bench-webhook-secrets",
    RAW_PAYLOAD_BUCKET="bench-raw-payloads",
    BASELINE_MESSAGES_TABLE="bench-baseline-messages",
    BASELINE_IDEMPOTENCY_TABLE="bench-baseline-idempotency",
    BASELINE_QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/bench-baseline-queue",
)
ENVIRONMENT.pop("PYTHONDONTWRITEBYTECODE", None)


def _interpreter(snippet: str, *flags: str, env: dict[str, str] = ENVIRONMENT) -> tuple[Any, str, float]:
    """A fresh interpreter runs the snippet: its last stdout line as JSON, its stderr, the process wall ms."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our interpreter, our snippets
        [sys.executable, *flags, "-c", snippet],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall_ms = (time.perf_counter() - start) * 1e3
    if done.returncode != 0:
        raise RuntimeError(f"import snippet failed:\n{snippet}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr, wall_ms


def _run(snippet: str, *flags: str, env: dict[str, str] = ENVIRONMENT) -> tuple[dict[str, Any], str]:
    result, stderr, wall_ms = _interpreter(snippet, *flags, env=env)
    result["process_wall_ms"] = wall_ms
    return result, stderr


def imported_modules(name: str) -> set[str]:
    """Every module a snippet leaves imported: "required" holds every third-party module "ours" does, or
    the floor docs/adr/0012 names is not the floor (tests/unit/test_ingest_cold_import.py checks it)."""
    modules, _, _ = _interpreter(SNIPPETS[name] + "import sys\nprint(json.dumps(sorted(sys.modules)))\n")
    return set(modules)


_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _importtime(snippet: str) -> list[dict[str, Any]]:
    _, stderr = _run(snippet, "-X", "importtime")
    rows = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            self_us, cumulative_us, indent, name = match.groups()
            rows.append(
                {
                    "module": name,
                    "depth": (len(indent) - 1) // 2,
                    "self_ms": int(self_us) / 1e3,
                    "cumulative_ms": int(cumulative_us) / 1e3,
                }
            )
    return rows


def import_profile(top: int = 10) -> dict[str, Any]:
    """`-X importtime` of our handler: its costliest imports (cumulative), and the self time of the
    modules it imports that bare boto3 + clients does not, by top-level package: what ours adds."""
    ours, bare = _importtime(SNIPPETS["ours"]), _importtime(SNIPPETS["bare"])
    in_bare = {row["module"] for row in bare}
    extra: dict[str, float] = defaultdict(float)
    for row in ours:
        if row["module"] not in in_bare:
            extra[row["module"].split(".")[0]] += row["self_ms"]
    packages = sorted(extra.items(), key=lambda item: item[1], reverse=True)[:top]
    costliest = sorted(ours, key=lambda row: row["cumulative_ms"], reverse=True)[:top]
    return {
        "top_imports_by_cumulative_ms": costliest,
        "added_over_bare_self_ms_by_package": [
            {"package": name, "self_ms": round(ms, 1)} for name, ms in packages
        ],
        "note": "one run each under -X importtime (which slows imports itself); creating clients is not an "
        "import. A module imported first inside another package (botocore under aws_xray_sdk) is "
        "nested there even though boto3 would have imported it anyway.",
    }


def measure(
    snippets: dict[str, str], runs: int, flags: tuple[str, ...] = (), env: dict[str, str] = ENVIRONMENT
) -> dict[str, list[dict[str, Any]]]:
    """Each snippet `runs` times in fresh interpreters, rotating order, after one untimed run of each."""
    names = list(snippets)
    for name in names:  # writes bytecode caches where it may; not timed
        _run(snippets[name], *flags, env=env)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for number in range(runs):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(_run(snippets[name], *flags, env=env)[0])
    return results


def figures(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    runs = 3 if quick else 15
    progress(f"cold import: {runs} fresh interpreters per snippet, rotating order")
    results = measure(SNIPPETS, runs)
    progress("cold import: one -X importtime run of our handler")
    profile = import_profile()

    def field(name: str, key: str) -> list[float]:
        return [run[key] for run in results[name]]

    detail: dict[str, Any] = {
        name: {
            key: spread(field(name, key))
            for key in ("total_ms", "import_ms", "clients_ms", "process_wall_ms")
        }
        for name in results
    }
    detail["snippets"] = SNIPPETS
    ours, bare, required, powertools = (
        median(field(name, "total_ms")) for name in ("ours", "bare", "required", "powertools")
    )
    rows = [
        Figure(
            key="cold_import_ms.handler_vs_boto3",
            title="Cold import + 3 clients",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(bare, 1),
            baseline_name="import boto3 + the same 3 clients",
            target="ratio <= 1.2",  # issue 10 item 11; docs/adr/0012 says why it is not met
            passed=ours / bare <= 1.2,
            detail=detail,
        ),
        Figure(
            key="cold_import_ms.handler_vs_required_libraries",
            title="Cold import + 3 clients (own code)",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(required, 1),
            baseline_name="boto3 + pydantic (one model) + Powertools Logger/Metrics + the same 3 clients",
            target="-",
            passed=None,
            detail={"required_vs_bare_boto3_ratio": round(required / bare, 3)},
        ),
        Figure(
            key="cold_import_ms.handler_vs_powertools",
            title="Cold import + 3 clients (context)",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(powertools, 1),
            target="-",
            passed=None,
            detail={"powertools_style_vs_bare_boto3_ratio": round(powertools / bare, 3)},
        ),
    ]
    return rows, profile
