"""OperationsDashboard shows every metric the code emits, every alarm and every queue in template.yaml."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from switchboard_ops.local.template import load_template, resources_of_type
from switchboard_ops.project import ROOT

SOURCES = [ROOT / "shared" / "switchboard", ROOT / "functions"]
# Powertools' own emitters; functions that pass a parameter of theirs on as the name are found below.
PRIMITIVES = {"add_metric", "single_metric"}


def _callee(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _name_arg(call: ast.Call) -> ast.expr | None:
    named = [keyword.value for keyword in call.keywords if keyword.arg == "name"]
    return named[0] if named else (call.args[0] if call.args else None)


def _strings(node: ast.AST) -> set[str]:
    return {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)}


def emitted_metric_names(roots: list[Path] = SOURCES) -> set[str]:
    """Metric names from the source: string literals given to an emitter (add_metric, single_metric, or any
    function forwarding its parameter to one: service_metric, count_by_provider, _count) and the `metric`
    class attributes of the rejection errors (`_count(rejected.metric, ...)`)."""
    trees = [ast.parse(path.read_text()) for root in roots for path in sorted(root.rglob("*.py"))]
    functions = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    emitters = set(PRIMITIVES)
    while True:  # wrappers of wrappers, until nothing new turns up
        wrappers = {
            function.name
            for function in functions
            for call in ast.walk(function)
            if isinstance(call, ast.Call) and _callee(call) in emitters
            if isinstance(arg := _name_arg(call), ast.Name) and arg.id in {a.arg for a in function.args.args}
        }
        if wrappers <= emitters:
            break
        emitters |= wrappers
    names: set[str] = set()
    for function in functions:
        parameters = {a.arg for a in function.args.args}
        for call in ast.walk(function):
            if not (isinstance(call, ast.Call) and _callee(call) in emitters and (arg := _name_arg(call))):
                continue
            literals = _strings(arg)
            forwarded = isinstance(arg, ast.Name) and arg.id in parameters
            declared = isinstance(arg, ast.Attribute) and arg.attr == "metric"
            assert literals or forwarded or declared, f"unreadable metric name: {ast.unparse(call)}"
            names |= literals
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "metric":
                names |= _strings(node.value)
    return names


def _placeholder(match: re.Match[str], parameters: dict[str, Any]) -> str:
    name = match.group(1)
    if name.startswith("AWS::"):
        return "us-east-1"
    if parameters.get(name, {}).get("Type") == "Number":
        return str(parameters[name]["Default"])
    return name.split(".")[0]  # ${ProcessingQueue.QueueName} -> ProcessingQueue: the logical id


def dashboard() -> dict[str, Any]:
    template = load_template()
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    parameters = template.get("Parameters", {})
    return json.loads(re.sub(r"\$\{([^}]+)\}", lambda match: _placeholder(match, parameters), body))


def _metric_rows(board: dict[str, Any]) -> list[list[Any]]:
    return [row for widget in board["widgets"] for row in widget["properties"].get("metrics", [])]


def test_the_dashboard_body_is_json_with_widgets():
    assert len(dashboard()["widgets"]) > 10


def test_every_metric_the_code_emits_is_on_the_dashboard():
    # Given the metric names in the product code (an explicit metric row or a SEARCH expression)
    emitted = emitted_metric_names()
    # When the dashboard's metrics are collected
    rows = _metric_rows(dashboard())
    searches = " ".join(row[0].get("expression", "") for row in rows if isinstance(row[0], dict))
    shown = {row[1] for row in rows if isinstance(row[0], str)}
    shown |= set(re.findall(r'MetricName="(\w+)"', searches))
    # Then none is missing
    assert {"WebhooksReceived", "ReconcileRunFailed", "SignatureRejected"} <= emitted  # the scan itself works
    assert emitted - shown == set()


def test_the_scan_finds_a_metric_sent_through_a_new_wrapper(tmp_path: Path):
    (tmp_path / "new.py").write_text(
        "def _tally(name):\n    metrics.add_metric(name=name, unit='Count', value=1)\n\n"
        "def run():\n    _tally('NewMetric')\n"
    )

    assert emitted_metric_names([tmp_path]) == {"NewMetric"}


def test_every_alarm_is_on_the_alarm_widget():
    alarms = set(resources_of_type(load_template(), "AWS::CloudWatch::Alarm"))
    widgets = [widget for widget in dashboard()["widgets"] if widget["type"] == "alarm"]

    assert {arn for widget in widgets for arn in widget["properties"]["alarms"]} == alarms


def test_every_queue_is_on_some_widget():
    queues = set(resources_of_type(load_template(), "AWS::SQS::Queue"))
    shown = {row[row.index("QueueName") + 1] for row in _metric_rows(dashboard()) if "QueueName" in row}

    assert queues - shown == set()


def test_every_functions_init_duration_is_on_the_cold_start_query():
    # Given every function's log group (Lambda writes each cold start's Init Duration in its REPORT line)
    template = load_template()
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    log_groups = {
        name
        for name in resources_of_type(template, "AWS::Logs::LogGroup")
        if name.endswith("FunctionLogGroup")
    }
    assert log_groups == {f"{function}LogGroup" for function in functions}
    # When the dashboard's Logs Insights widgets are read
    queries = [widget["properties"]["query"] for widget in dashboard()["widgets"] if widget["type"] == "log"]
    init = [query for query in queries if "@initDuration" in query]
    # Then one query reads every function's log group
    assert len(init) == 1
    assert set(re.findall(r"SOURCE '([^']+)'", init[0])) == log_groups
