"""The worker benchmark's JSON document and stdout table: bench.report's, plus where the time goes."""

from __future__ import annotations

from typing import Any

from bench import report
from bench.ingest.common import Figure

_MODES = {"moto": "moto as shipped", "per_item_rollback": "per-item rollback"}


def document(
    figures: list[Figure], sections: dict[str, Any], *, quick: bool, argv: list[str]
) -> dict[str, Any]:
    return report.document("worker", figures, quick=quick, argv=argv, sections=sections)


def _grid(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]

    def line(row: list[str]) -> str:
        return (
            "  "
            + "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )

    return [title, line(header), *(line(row) for row in rows), ""]


def _time_breakdown(breakdown: dict[str, Any]) -> list[str]:
    columns = [(mode, side) for mode in breakdown for side in ("ours", "baseline")]
    names = sorted(
        {name for mode, side in columns for name in breakdown[mode][side]} - {"handler's own work", "total"}
    )
    rows = [
        [name, *(report.number(breakdown[mode][side].get(name, 0.0)) for mode, side in columns)]
        for name in [*names, "handler's own work", "total"]
    ]
    header = ["ms per job", *(f"{side} ({_MODES[mode]})" for mode, side in columns)]
    return _grid(
        "Where handler time goes (ms per job, from the throughput runs; moto answers inside each AWS call):",
        header,
        rows,
    )


def _calls_by_kind(figures: list[dict[str, Any]]) -> list[str]:
    figure = next((f for f in figures if f["key"] == "aws_calls.processed_job"), None)
    if figure is None:
        return []
    by_kind = figure["detail"]["by_kind_of_job"]

    def ops(entry: dict[str, Any]) -> str:
        return ", ".join(
            f"{op.split('.', 1)[1]} {report.number(round(n, 2))}"
            for op, n in entry["per_job_operations"].items()
        )

    rows = [
        [
            kind,
            str(sides["ours"]["jobs"]),
            report.number(round(sides["ours"]["mean"], 2)),
            report.number(round(sides["baseline"]["mean"], 2)),
            f"ours: {ops(sides['ours'])} | baseline: {ops(sides['baseline'])}",
        ]
        for kind, sides in by_kind.items()
    ]
    return _grid(
        "AWS calls per job by kind of job (one record per invocation):",
        ["kind", "jobs", "ours", "baseline", "operations per job"],
        rows,
    )


def _hotspots(profile: dict[str, Any]) -> list[str]:
    out = ["Profile (cProfile, handler calls only; share of self time by area, top 5):"]
    for mode in ("moto", "per_item_rollback"):
        for side in ("ours", "baseline"):
            entry = profile[mode][side]
            areas = ", ".join(
                f"{area} {share:.0%}" for area, share in list(entry["self_time_share_by_area"].items())[:5]
            )
            out.append(
                f"  {side} ({_MODES[mode]}), {report.number(entry['profiled_ms_per_job'])} ms/job profiled;"
                f" copy.deepcopy {entry['deepcopy_cumulative_share']:.0%} cumulative: {areas}"
            )
    probe = profile["ms_per_job_by_events_table_size"]
    sizes = [size for size in probe["ours"]]
    out.append(
        "  ms per job vs records already in the events table (moto as shipped): "
        + "; ".join(
            f"{side} " + ", ".join(f"{size}: {report.number(probe[side][size])}" for size in sizes)
            for side in ("ours", "baseline")
        )
    )
    out.append("")
    return out


def table(doc: dict[str, Any]) -> str:
    extra: list[str] = []
    if doc.get("time_breakdown_ms_per_job"):
        extra += _time_breakdown(doc["time_breakdown_ms_per_job"])
    extra += _calls_by_kind(doc["figures"])
    if doc.get("profile"):
        extra += _hotspots(doc["profile"])
    return report.table(doc, extra=extra)
