"""Injectable faults on the provider APIs: the next N requests to a path answer 500/503 (or any
4xx/5xx), arrive late (`latency_ms`), or hang (`timeout_ms`: the connection is held that long and then
closed with no answer, longer than a client's read timeout). Rules match in the order added."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass
from typing import Any

_KEYS = {"path", "method", "status", "latency_ms", "timeout_ms", "count"}


class FaultError(ValueError):
    pass


@dataclass
class FaultRule:
    path: str = "/"  # a prefix, or a glob when it holds * or ?
    method: str | None = None  # None: any method
    status: int | None = None  # answer this status instead of the real response
    latency_ms: int = 0  # delay before answering (the real response, or `status`)
    timeout_ms: int | None = None  # hold the connection this long, then close it without answering
    count: int | None = 1  # how many requests this rule hits; None: until cleared

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if any(char in self.path for char in "*?["):
            return fnmatch.fnmatchcase(path, self.path)
        return path.startswith(self.path)

    def describe(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, payload: Any) -> FaultRule:
        if not isinstance(payload, dict):
            raise FaultError("a fault rule must be a JSON object")
        unknown = set(payload) - _KEYS
        if unknown:
            raise FaultError(f"unknown fault rule field(s): {', '.join(sorted(unknown))}")
        rule = cls(
            path=_string(payload.get("path", "/"), "path"),
            method=_string(payload["method"], "method") if payload.get("method") else None,
            status=_int(payload.get("status"), "status", 400, 599),
            latency_ms=_int(payload.get("latency_ms"), "latency_ms", 0, 60_000) or 0,
            timeout_ms=_int(payload.get("timeout_ms"), "timeout_ms", 1, 120_000),
            count=_int(payload.get("count", 1), "count", 1, 1_000_000),
        )
        if not rule.path.startswith("/"):
            raise FaultError("path must start with '/'")
        if rule.status is None and rule.timeout_ms is None and not rule.latency_ms:
            raise FaultError("a fault rule needs a status, a latency_ms or a timeout_ms")
        return rule


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise FaultError(f"{name} must be a non-empty string")
    return value


def _int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"{name} must be a whole number from {low} to {high}")
    return value


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, *rules: FaultRule) -> None:
        with self._lock:
            self._rules.extend(rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def take(self, method: str, path: str) -> FaultRule | None:
        """The first rule matching this request, spending one of its `count`."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.matches(method, path):
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count <= 0:
                        del self._rules[index]
                return rule
        return None


def rules_from_json(payload: Any) -> list[FaultRule]:
    """`{"faults": [rule, ...]}`, a single rule object, or a list of rules."""
    if isinstance(payload, dict) and "faults" in payload:
        payload = payload["faults"]
    items = payload if isinstance(payload, list) else [payload]
    return [FaultRule.from_json(item) for item in items]
