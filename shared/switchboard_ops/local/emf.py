"""The local stack's CloudWatch Logs: every Embedded Metric Format document a function prints (Powertools
Metrics' flush, `single_metric`) becomes `PutMetricData` on moto, as CloudWatch Logs extracts EMF from a
Lambda's log group in AWS - namespace, dimension sets, values, units and the document's timestamp.

The hook is `EmfTee`, put once in front of the process's stdout: the handlers run on several threads
(API, pollers, schedules), so each thread's partial line is buffered on its own (a print writes the text
and the newline separately) and a complete line that is an EMF document is handed to `EmfPublisher`.
The publisher puts the metrics from its own thread, so an invocation never waits on moto or fails with it
(a failure is logged to stderr), and the IAM check never counts the put as the function's call.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

MAX_DATUMS_PER_CALL = 1000  # PutMetricData's limit


def is_emf(line: str) -> bool:
    return line.startswith("{") and '"_aws"' in line and '"CloudWatchMetrics"' in line


def metric_data(document: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(namespace, MetricData) pairs for one EMF document: one datum per metric, value and dimension set,
    as CloudWatch Logs extracts them (a dimension set names top-level members; a value may be a list)."""
    meta = document["_aws"]
    timestamp = datetime.fromtimestamp(int(meta["Timestamp"]) / 1000, tz=UTC)
    extracted: list[tuple[str, list[dict[str, Any]]]] = []
    for directive in meta["CloudWatchMetrics"]:
        dimension_sets = directive.get("Dimensions") or [[]]
        data = []
        for definition in directive.get("Metrics", []):
            name = definition["Name"]
            if name not in document:
                continue
            raw = document[name]
            values = raw if isinstance(raw, list) else [raw]
            for dimension_set in dimension_sets:
                dimensions = [{"Name": key, "Value": str(document[key])} for key in dimension_set]
                for value in values:
                    datum: dict[str, Any] = {
                        "MetricName": name,
                        "Dimensions": dimensions,
                        "Timestamp": timestamp,
                        "Value": float(value),
                    }
                    if definition.get("Unit"):
                        datum["Unit"] = definition["Unit"]
                    data.append(datum)
        if data:
            extracted.append((directive["Namespace"], data))
    return extracted


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class EmfPublisher:
    """A queue of EMF lines and a thread that puts their metrics with `cloudwatch` (moto's)."""

    def __init__(self, cloudwatch: Any, *, log: Callable[[str], None] = _stderr) -> None:
        self._cloudwatch = cloudwatch
        self._log = log
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="emf-to-cloudwatch", daemon=True)
        self.published = 0  # datums put so far

    def start(self) -> EmfPublisher:
        self._thread.start()
        return self

    def submit(self, line: str) -> None:
        self._lines.put(line)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every line submitted so far is put (tests, and the evaluator before it reads)."""
        deadline = time.monotonic() + timeout
        while self._lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._lines.unfinished_tasks

    def stop(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        self._lines.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            line = self._lines.get()
            try:
                if line is None:
                    return
                self.publish(line)
            finally:
                self._lines.task_done()

    def publish(self, line: str) -> None:
        try:
            for namespace, data in metric_data(json.loads(line)):
                for start in range(0, len(data), MAX_DATUMS_PER_CALL):
                    chunk = data[start : start + MAX_DATUMS_PER_CALL]
                    self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=chunk)
                    self.published += len(chunk)
        except Exception as exc:  # noqa: BLE001 - a metric lost locally must never break the stack
            self._log(f"[WARN] EMF -> CloudWatch: {type(exc).__name__}: {exc} (line {line[:200]!r})")


class EmfTee:
    """A stdout stand-in: writes go through to `stream`; each complete EMF line also goes to `sink`."""

    def __init__(self, stream: TextIO, sink: Callable[[str], None]) -> None:
        self._stream = stream
        self._sink = sink
        self._partial = threading.local()

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        with contextlib.suppress(Exception):  # the tee must never break a print
            self._scan(text)
        return written

    def _scan(self, text: str) -> None:
        buffered = getattr(self._partial, "text", "") + text
        *lines, rest = buffered.split("\n")
        self._partial.text = rest if len(rest) < 1_000_000 else ""
        for line in lines:
            if is_emf(line):
                self._sink(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...: the real stream's
        return getattr(self._stream, name)


class EmfCapture:
    """`EmfTee` in front of sys.stdout while the stack runs; `close` puts the original back."""

    def __init__(self, cloudwatch: Any) -> None:
        self.publisher = EmfPublisher(cloudwatch).start()
        self._original = sys.stdout
        sys.stdout = EmfTee(self._original, self.publisher.submit)

    def close(self) -> None:
        sys.stdout = self._original
        self.publisher.stop()
