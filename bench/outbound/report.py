"""The outbound benchmark's JSON document and stdout table: bench.report's, plus what each burst did and
where the health check's detection time goes."""

from __future__ import annotations

from typing import Any

from bench import report
from bench.ingest.common import Figure

_LABELS = {"openphone": "OpenPhone", "twilio": "Twilio"}


def document(
    figures: list[Figure], sections: dict[str, Any], *, quick: bool, argv: list[str]
) -> dict[str, Any]:
    return report.document("outbound", figures, quick=quick, argv=argv, sections=sections)


def _run(name: str, run: dict[str, Any]) -> str:
    retry = (
        f"; {run['left_in_queue_for_retry']} left for SQS to redeliver after the 30 s+ backoff"
        if run["left_in_queue_for_retry"]
        else ""
    )
    return (
        f"    {name}: {run['accepted']}/{run['burst']} accepted in {run['seconds_to_last_acceptance']:.2f} s"
        f" = {run['sends_per_second']:.2f}/s; {run['sandbox_429s']} 429s;"
        f" tried {run['attempts_per_second']:.1f} sends/s;"
        f" {run['aws_calls_per_record']:g} AWS calls per record{retry}"
    )


def _bursts(figures: list[dict[str, Any]]) -> list[str]:
    out = []
    for figure in figures:
        key = figure["key"]
        if not key.startswith("sends_per_second."):
            continue
        detail = figure["detail"]
        provider = key.split(".", 1)[1]
        if provider == "openphone_provider_latency":
            ours = detail["ours"]
            out += [
                f"  {figure['title']} (ceiling {detail['per_container_ceiling_sends_per_second']:g}/s per"
                " container, 2 containers):",
                _run("ours", ours),
            ]
            continue
        limits = detail["ours"]["limits_per_sender"][provider]
        out += [
            f"  {_LABELS[provider]}, limit {figure['baseline']:g}/s; each of 2 Senders: bucket"
            f" {limits['rate_per_second']:g}/s, capacity {limits['capacity']:g}:",
            _run("ours ", detail["ours"]),
            _run("naive", detail["naive"]),
        ]
    return ["Bursts (2 pollers, BatchSize 5, sandbox in-process):", *out, ""] if out else []


def _health(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    parts = "; ".join(
        f"{name} {seconds:.3f}" for name, seconds in section["components_seconds_median"].items()
    )
    return [
        "Health check, broken loop (median of the scaled runs, seconds):",
        f"  start -> alert {section['detection_seconds_median_scaled_run']:.3f} s scaled"
        f" (runs {', '.join(f'{d:.3f}' for d in section['detection_seconds_scaled_run'])}):",
        f"    {parts}",
        f"  real time: x60 = {section['real_time_seconds_if_everything_scaled']:g} s; 120 s timeout + "
        f"{section['overhead_seconds_unscaled']:.3f} s unscaled overhead = "
        f"{section['real_time_seconds_timeout_plus_overhead']:g} s",
        f"  {section['alerted_as_expected']}/{section['broken_checks']} broken checks alerted"
        " (one alert each);"
        f" {section['healthy_checks_passed']}/{section['healthy_checks']} healthy checks passed"
        f" (canary round trip, ms: {', '.join(str(ms) for ms in section['healthy_canary_latency_ms'])})",
        "  A webhook-only system (no canary) never detects this loop failure: every send succeeds.",
        "  The check runs hourly: from the moment the loop breaks, the alert comes up to 1 h + this later.",
        "",
    ]


def table(doc: dict[str, Any]) -> str:
    extra = _bursts(doc["figures"]) + _health(doc.get("health_check"))
    return report.table(doc, extra=extra, default_baseline=None)
