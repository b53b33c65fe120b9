"""The ingest benchmark's JSON document and stdout table: bench.report's, plus the import profile."""

from __future__ import annotations

from typing import Any

from bench import report
from bench.ingest.common import Figure
from bench.report import git_commit, machine, versions

__all__ = ["document", "git_commit", "machine", "table", "versions"]


def document(
    figures: list[Figure], import_profile: dict[str, Any], *, quick: bool, argv: list[str]
) -> dict[str, Any]:
    return report.document(
        "ingest", figures, quick=quick, argv=argv, sections={"import_profile": import_profile}
    )


def _import_profile(profile: dict[str, Any]) -> list[str]:
    if not profile:
        return []
    out = ["Our handler's costliest imports (-X importtime, cumulative ms):"]
    for row in profile["top_imports_by_cumulative_ms"]:
        out.append(f"  {row['cumulative_ms']:8.1f}  {'  ' * row['depth']}{row['module']}")
    out.append("Imports ours adds over bare boto3 + clients, self ms by package:")
    out.append(
        "  "
        + ", ".join(
            f"{row['package']} {row['self_ms']:g}" for row in profile["added_over_bare_self_ms_by_package"]
        )
    )
    out.append("")
    return out


def table(doc: dict[str, Any]) -> str:
    return report.table(doc, extra=_import_profile(doc["import_profile"]))
