"""Every dashboard row and every alarm watches a dimension set the code emits. CloudWatch treats each
dimension set as its own metric: a row for {service} shows nothing, and an alarm on it never fires, when
the metric is only ever put under {service, provider}. The set each emitter puts is read from the source
(observability.py's wrappers, Powertools' `metrics`, and any function that forwards a name to them)."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from test_dashboard import SOURCES, _callee, _metric_rows, _name_arg, dashboard

from switchboard.observability import NAMESPACE
from switchboard_ops.local.template import load_template, resources_of_type

SERVICE = frozenset({"service"})
# What each emitter of switchboard/observability.py (and Powertools' `metrics.add_metric`) puts: the service
# dimension always, and `metric_by` adds the names of its keyword arguments at the call.
EMITTERS = {
    "add_metric": SERVICE,
    "service_metric": SERVICE,
    "count_by_provider": SERVICE | {"provider"},
    "metric_by": SERVICE,
}
NOT_DIMENSIONS = {"name", "value", "unit"}  # metric_by's own parameters
COLD_START = frozenset({"function_name", "service"})  # Powertools' capture_cold_start_metric


def _dimensions(call: ast.Call, emitters: dict[str, frozenset[str]]) -> frozenset[str]:
    extra = {k.arg for k in call.keywords if k.arg and k.arg not in NOT_DIMENSIONS}
    return emitters[_callee(call)] | extra if _callee(call) == "metric_by" else emitters[_callee(call)]


def _wrappers(
    functions: list[ast.FunctionDef], emitters: dict[str, frozenset[str]]
) -> dict[str, frozenset[str]]:
    """{function name: what it puts} for the functions that forward their parameter as a metric name to an
    emitter, or to another such function, until nothing new turns up."""
    known = dict(emitters)
    while True:
        found = {
            function.name: _dimensions(call, known)
            for function in functions
            for call in ast.walk(function)
            if isinstance(call, ast.Call) and _callee(call) in known
            if isinstance(arg := _name_arg(call), ast.Name) and arg.id in {a.arg for a in function.args.args}
        }
        if found.items() <= known.items():
            return {name: dims for name, dims in known.items() if name not in emitters or name in found}
        known |= found


def emitted_dimension_sets(roots: list[Path] = SOURCES) -> dict[str, set[frozenset[str]]]:
    """{metric name: the dimension-name sets it is put under}, from the source."""
    paths = [path for root in roots for path in sorted(root.rglob("*.py")) if path.name != "observability.py"]
    trees = [ast.parse(path.read_text()) for path in paths]
    functions = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    declared = {  # `metric = "..."` class attributes, counted through `_count(rejected.metric, ...)`
        node.value.value
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "metric"
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    # A wrapper forwarding its parameter as the name puts what it calls; `_count` is a different function
    # in each module, so private wrappers resolve within their own module.
    public = {name: dims for name, dims in _wrappers(functions, EMITTERS).items() if not name.startswith("_")}
    shared = EMITTERS | public
    emitted: dict[str, set[frozenset[str]]] = defaultdict(set)
    for tree in trees:
        local = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
        emitters = shared | _wrappers(local, shared)
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _callee(call) in emitters and (arg := _name_arg(call))):
                continue
            dimensions = _dimensions(call, emitters)
            names = {
                c.value for c in ast.walk(arg) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
            if isinstance(arg, ast.Attribute) and arg.attr == "metric":
                names |= declared
            for name in names:
                emitted[name].add(dimensions)
            if any(k.arg == "capture_cold_start_metric" for k in call.keywords):
                emitted["ColdStart"].add(COLD_START)
        if "capture_cold_start_metric=True" in ast.unparse(tree):
            emitted["ColdStart"].add(COLD_START)
    return emitted


def _watched_on_dashboard() -> list[tuple[str, frozenset[str]]]:
    watched = []
    for row in _metric_rows(dashboard()):
        if isinstance(row[0], dict):
            for names, metric in re.findall(
                r"\{(\w+(?:,\w+)*)\} MetricName=\"(\w+)\"", row[0].get("expression", "")
            ):
                namespace, *dimensions = names.split(",")
                if namespace == NAMESPACE:
                    watched.append((metric, frozenset(dimensions)))
        elif row[0] == NAMESPACE:
            plain = [item for item in row if not isinstance(item, dict)]
            watched.append((plain[1], frozenset(plain[2::2])))
    return watched


def _watched_by_alarms() -> list[tuple[str, str, frozenset[str]]]:
    watched = []
    template = load_template()
    for name in resources_of_type(template, "AWS::CloudWatch::Alarm"):
        properties: dict[str, Any] = template["Resources"][name]["Properties"]
        metrics = [
            query["MetricStat"]["Metric"] for query in properties.get("Metrics", []) if "MetricStat" in query
        ]
        if "MetricName" in properties:
            metrics.append(properties)
        for metric in metrics:
            if metric.get("Namespace") == NAMESPACE:
                dimensions = frozenset(d["Name"] for d in metric.get("Dimensions", []))
                watched.append((name, metric["MetricName"], dimensions))
    return watched


def test_the_scan_reads_each_emitter_and_wrapper(tmp_path: Path):
    (tmp_path / "new.py").write_text(
        "def _tally(name):\n    count_by_provider(name, 'twilio')\n\n"
        "def run():\n    _tally('PerProvider')\n    metrics.add_metric(name='Plain', unit='Count', value=1)\n"
        "    metric_by('ByFeature', 1, feature='x')\n"
    )

    assert emitted_dimension_sets([tmp_path]) == {
        "PerProvider": {SERVICE | {"provider"}},
        "Plain": {SERVICE},
        "ByFeature": {SERVICE | {"feature"}},
    }


def test_a_private_wrapper_is_resolved_in_its_own_module(tmp_path: Path):
    (tmp_path / "a.py").write_text("def _count(name):\n    count_by_provider(name, 'p')\n\n_count('A')\n")
    (tmp_path / "b.py").write_text("def _count(name):\n    service_metric(name, 1)\n\n_count('B')\n")

    assert emitted_dimension_sets([tmp_path]) == {"A": {SERVICE | {"provider"}}, "B": {SERVICE}}


def test_every_dashboard_row_shows_a_dimension_set_the_code_emits():
    emitted = emitted_dimension_sets()
    watched = _watched_on_dashboard()

    assert len(watched) > 40  # the rows were read
    assert [
        (metric, sorted(dims)) for metric, dims in watched if dims not in emitted.get(metric, set())
    ] == []


def test_every_alarm_watches_a_dimension_set_the_code_emits():
    emitted = emitted_dimension_sets()
    watched = _watched_by_alarms()

    assert len(watched) > 10
    assert [
        (alarm, metric, sorted(dims))
        for alarm, metric, dims in watched
        if dims not in emitted.get(metric, set())
    ] == []
