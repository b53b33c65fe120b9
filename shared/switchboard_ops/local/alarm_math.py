"""CloudWatch metric math, the subset the template's alarms use, for the local alarm evaluator.

Supported: numbers, metric ids, + - * /, comparisons (< <= > >= == !=), `FILL(m, value)`, `IF(c, a, b)`,
`MAX([...])`, `MIN([...])`, `SUM([...])`, `AVG([...])`, `ABS(x)` - each evaluated on one period's
datapoints. A metric with no datapoint in the period is missing: anything computed from it is missing
(no datapoint), unless FILL gives it a value, as in CloudWatch. Everything else - ANOMALY_DETECTION_BAND,
METRICS(), SEARCH, time-series functions - raises MathError, and the alarm is listed as not evaluated.
The text is parsed by Python's `ast` (the subset is valid Python syntax) and walked here, never executed.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence

Value = float | None

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b if b else float("nan"),
}
_COMPARE: dict[type, Callable[[float, float], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "MAX": max,
    "MIN": min,
    "SUM": lambda values: float(sum(values)),
    "AVG": lambda values: sum(values) / len(values),
}


class MathError(ValueError):
    """An expression outside the supported subset."""


def parse(expression: str) -> ast.expr:
    try:
        tree = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError as exc:
        raise MathError(f"not metric math this evaluator reads: {expression!r}") from exc
    _check(tree)
    return tree


def names(tree: ast.expr) -> set[str]:
    """The metric ids an expression reads (not its functions' names)."""
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called}


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in {"FILL", "IF", "ABS", *_AGGREGATES}:
            raise MathError(f"unsupported function {ast.unparse(node.func)!r}")
        if node.keywords:
            raise MathError("keyword arguments are not metric math")
        for argument in node.args:
            _check(argument)
        return
    allowed = (ast.BinOp, ast.Compare, ast.UnaryOp, ast.List, ast.Name, ast.Constant, ast.Load)
    allowed_operators = (*_BINARY, *_COMPARE, ast.USub, ast.UAdd)
    if not isinstance(node, (*allowed, *allowed_operators)):
        raise MathError(f"unsupported {type(node).__name__} in metric math")
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
        raise MathError(f"unsupported constant {node.value!r}")
    for child in ast.iter_child_nodes(node):
        _check(child)


def evaluate(tree: ast.expr, values: Mapping[str, Value]) -> Value:
    """The expression's value for one period; None when it has no datapoint."""
    if isinstance(tree, ast.Constant) and isinstance(tree.value, (int, float)):
        return float(tree.value)
    if isinstance(tree, ast.Name):
        if tree.id not in values:
            raise MathError(f"unknown metric id {tree.id!r}")
        return values[tree.id]
    if isinstance(tree, ast.UnaryOp):
        operand = evaluate(tree.operand, values)
        return None if operand is None else (-operand if isinstance(tree.op, ast.USub) else operand)
    if isinstance(tree, ast.BinOp):
        left, right = evaluate(tree.left, values), evaluate(tree.right, values)
        return None if left is None or right is None else _BINARY[type(tree.op)](left, right)
    if isinstance(tree, ast.Compare):
        return _compare(tree, values)
    if isinstance(tree, ast.Call):
        return _call(tree, values)
    raise MathError(f"a {type(tree).__name__} has no value on its own")


def _compare(tree: ast.Compare, values: Mapping[str, Value]) -> Value:
    left = evaluate(tree.left, values)
    result = True
    for op, right_node in zip(tree.ops, tree.comparators, strict=True):
        right = evaluate(right_node, values)
        if left is None or right is None:
            return None
        result = result and _COMPARE[type(op)](left, right)
        left = right
    return 1.0 if result else 0.0


def _call(tree: ast.Call, values: Mapping[str, Value]) -> Value:
    assert isinstance(tree.func, ast.Name)
    name, args = tree.func.id, tree.args
    if name == "FILL":
        value = evaluate(args[0], values)
        return evaluate(args[1], values) if value is None else value
    if name == "IF":
        condition = evaluate(args[0], values)
        if condition is None:
            return None
        return evaluate(args[1] if condition else args[2], values)
    if name == "ABS":
        value = evaluate(args[0], values)
        return None if value is None else abs(value)
    items = args[0].elts if len(args) == 1 and isinstance(args[0], ast.List) else args
    present = [value for value in (evaluate(item, values) for item in items) if value is not None]
    return _AGGREGATES[name](present) if present else None
