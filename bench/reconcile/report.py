"""The reconcile benchmark's JSON document and stdout table: bench.report's, plus where the time went."""

from __future__ import annotations

from typing import Any

from bench import report


def document(figures: list[Any], sections: dict[str, Any], *, quick: bool, argv: list[str]) -> dict[str, Any]:
    return report.document("reconcile", figures, quick=quick, argv=argv, sections=sections)


def table(doc: dict[str, Any]) -> str:
    extra = ["Per scenario (one Reconciler.run over the sandbox's OpenPhone list, AWS = moto in-process):"]
    for run in doc.get("scenarios", []):
        times, totals = run["time_breakdown_seconds"], run["totals"]
        ops = ", ".join(
            f"{name.split('.', 1)[1]} {count}" for name, count in run["aws_calls_by_operation"].items()
        )
        extra += [
            f"  {run['scenario']}: {run['messages']} msgs, {run['pages']} pages, wall {run['wall_seconds']} s"
            f" = {run['ratio_to_floor']:.3f} x floor {run['floor_seconds']:g} s;"
            f" new {totals.get('new_messages')},"
            f" existing {totals.get('existing_messages')}, errors {totals.get('errors')},"
            f" 429s {run['sandbox_429s']}",
            f"    time (overlapping): listing - token bucket"
            f" {times['listing_waiting_for_the_token_bucket']} s,"
            f" retry sleeps {times['listing_retry_sleeps_after_429']} s; storing - inside AWS calls (moto)"
            f" {times['storing_inside_aws_calls_moto']} s",
            f"    AWS calls {run['aws_calls']} ({ops}); per msg {run['aws_calls_per_message']},"
            f" per already-stored msg {run['overhead_calls_per_message']},"
            f" per new msg {run['calls_per_new_message']}",
        ]
    extra.append("")
    return report.table(doc, extra=extra, default_baseline=None)
