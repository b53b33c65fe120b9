"""Figure 6 (`--only artifact`): cold import of IngestFunction as deployed, from the `make build` output.

`make build` runs first (sam build, then scripts/precompile_artifacts.py; ~1 min, and pip reaches PyPI).
Each snippet runs in a fresh interpreter started the way Lambda's code directories allow: no bytecode can be
written, `-S` (no site-packages) and sys.path = the function's directory, the layers' python/ directories,
then the standard library, so boto3 is the layer's own; Lambda's environment variables that change what an
import does are set, and tracing is on. The snippets, in rotating order:
- ours: functions/ingest/app.py and its three clients from the build as `make build` leaves it (bytecode);
- ours, source only: the same from a copy without `__pycache__`, as `sam build` alone leaves it;
- bare (the baseline): `import boto3` and the same three clients, from the same precompiled layer;
- required (context): the venv figure's "required" snippet (bare + pydantic with one model + Powertools
  Logger/Metrics) from the same layer: ours over it is our own code's cost as deployed;
- every function's handler imported (no clients), from the build and from the copy without bytecode.
Not in the default run: it needs the SAM CLI and the network. docs/adr/0019 has the figures.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.ingest.cold_import import ENVIRONMENT, REPORT, SNIPPETS, ingest_snippet, measure, prelude
from bench.ingest.common import ROOT, Figure, median, progress, spread

BUILD = ROOT / ".aws-sam" / "build"
_LAYERS = ("SharedLayer", "DependenciesLayer")
# What Lambda sets that changes an import: the X-Ray SDK takes its cheap Lambda path when LAMBDA_TASK_ROOT is
# set (elsewhere its recorder builds a sampler with its own botocore session), and tracing is on in AWS.
LAMBDA_ENVIRONMENT = {
    "PYTHONDONTWRITEBYTECODE": "1",  # /var/task and /opt are read-only
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
}
_NOT_IN_LAMBDA = ("PYTHONPATH", "POWERTOOLS_TRACE_DISABLED")


def _lambda_path(build: Path, function: str = "IngestFunction") -> str:
    paths = [str(build / function), *(str(build / layer / "python") for layer in _LAYERS)]
    return f"import sys\nsys.path[:0] = {paths!r}\n"


def functions(build: Path) -> list[str]:
    """The build's function directories (a layer's holds python/)."""
    return sorted(path.name for path in build.iterdir() if path.is_dir() and not (path / "python").is_dir())


def _import_only(build: Path, function: str) -> str:
    return _lambda_path(build, function) + prelude() + "import app\n_t1 = time.perf_counter()\n" + REPORT


def snippets(compiled: Path, source_only: Path) -> dict[str, str]:
    """The venv figure's snippets with Lambda's sys.path in front, plus every handler's import alone."""
    every_handler = {
        f"{kind}:{function}": _import_only(build, function)
        for function in functions(compiled)
        for kind, build in (("import", compiled), ("import_source_only", source_only))
    }

    def ours(build: Path) -> str:
        return _lambda_path(build) + ingest_snippet(build / "IngestFunction" / "app.py")

    return {
        "ours": ours(compiled),
        "ours_source_only": ours(source_only),
        "bare": _lambda_path(compiled) + SNIPPETS["bare"],
        "required": _lambda_path(compiled) + SNIPPETS["required"],
        **every_handler,
    }


def _build() -> None:
    progress("artifact: make build (sam build + bytecode)")
    subprocess.run(["make", "build"], cwd=ROOT, check=True, capture_output=True, text=True)  # noqa: S607


def _per_function(results: dict[str, list[dict[str, Any]]]) -> list[Figure]:
    """Each function's handler import (no clients), with its bytecode vs as `sam build` alone leaves it."""

    def ms(name: str) -> float:
        return median([run["import_ms"] for run in results[name]])

    rows = []
    for function in sorted(name.split(":")[1] for name in results if name.startswith("import:")):
        ours, source_only = ms(f"import:{function}"), ms(f"import_source_only:{function}")
        rows.append(
            Figure(
                key=f"artifact_import_ms.{function}",
                title=f"Deployed import: {function}",
                unit="ms",
                ours=round(ours, 1),
                baseline=round(source_only, 1),
                baseline_name="its handler imported from the build without bytecode",
                target="ratio < 1",
                passed=ours < source_only,
            )
        )
    return rows


def figures(quick: bool) -> list[Figure]:
    _build()
    with tempfile.TemporaryDirectory(prefix="switchboard-artifact-") as scratch:
        source_only = Path(scratch) / "build"
        shutil.copytree(BUILD, source_only, ignore=shutil.ignore_patterns("__pycache__"))
        environment = {key: value for key, value in ENVIRONMENT.items() if key not in _NOT_IN_LAMBDA}
        environment.update(LAMBDA_ENVIRONMENT)
        runs = 3 if quick else 15
        progress(f"artifact: {runs} fresh interpreters per snippet, rotating order")
        results = measure(snippets(BUILD, source_only), runs, ("-S",), environment)

    def total(name: str) -> list[float]:
        return [run["total_ms"] for run in results[name]]

    ours, source_only_ms, bare, required = (
        median(total(name)) for name in ("ours", "ours_source_only", "bare", "required")
    )
    detail: dict[str, Any] = {
        name: spread(total(name)) for name in ("ours", "ours_source_only", "bare", "required")
    }
    return [
        Figure(
            key="artifact_cold_import_ms.bytecode_vs_source_only",
            title="Deployed cold import: bytecode",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(source_only_ms, 1),
            baseline_name="the same build without bytecode, as `sam build` alone leaves it",
            target="ratio < 1",
            passed=ours < source_only_ms,
            detail=detail,
        ),
        Figure(
            key="artifact_cold_import_ms.handler_vs_boto3",
            title="Deployed cold import + 3 clients",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(bare, 1),
            baseline_name="import boto3 + the same 3 clients, from the same layer",
            target="ratio <= 1.2",  # issue 10 item 11, on the deployed artifact
            passed=ours / bare <= 1.2,
            detail={"required_vs_bare_boto3_ratio": round(required / bare, 3)},
        ),
        Figure(
            key="artifact_cold_import_ms.handler_vs_required_libraries",
            title="Deployed cold import + 3 clients (own code)",
            unit="ms",
            ours=round(ours, 1),
            baseline=round(required, 1),
            baseline_name="boto3 + pydantic (one model) + Powertools Logger/Metrics + 3 clients, same layer",
            target="-",
            passed=None,
        ),
        *_per_function(results),
    ]
