"""HTTP API route selection as API Gateway does it: `{name}` is one path segment, a trailing `{name+}`
is greedy (one or more characters, slashes included), the most specific route wins, and `$default`
catches what nothing else matches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from switchboard_ops.local.functions import HttpRoute

DEFAULT_ROUTE = "$default"
_PARAM = re.compile(r"^\{([^{}+]+)(\+?)\}$")
_LITERAL, _SINGLE, _GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Compiled:
    route: HttpRoute
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    rank: tuple[tuple[int, ...], bool]  # per-segment kinds (literal first), then "ANY" after a method


def _compile(route: HttpRoute) -> _Compiled:
    if route.path == DEFAULT_ROUTE:
        return _Compiled(route, re.compile(r".*", re.DOTALL), (), ((3,), True))
    if not route.path.startswith("/"):
        raise ValueError(f"route path must start with '/': {route.path!r}")
    segments = route.path.strip("/").split("/") if route.path != "/" else []
    parts: list[str] = []
    names: list[str] = []
    kinds: list[int] = []
    for index, segment in enumerate(segments):
        param = _PARAM.match(segment)
        if param is None:
            if "{" in segment or "}" in segment:
                raise ValueError(f"unsupported path segment {segment!r} in {route.path!r}")
            parts.append(re.escape(segment))
            kinds.append(_LITERAL)
            continue
        name, greedy = param.groups()
        if greedy and index != len(segments) - 1:
            raise ValueError(f"a greedy parameter must be the last segment: {route.path!r}")
        parts.append(f"(?P<p{len(names)}>.+)" if greedy else f"(?P<p{len(names)}>[^/]+)")
        names.append(name)
        kinds.append(_GREEDY if greedy else _SINGLE)
    pattern = re.compile("/" + "/".join(parts), re.DOTALL)
    return _Compiled(route, pattern, tuple(names), (tuple(kinds), route.method == "ANY"))


class RouteTable:
    """The API's routes, tried most specific first; `match` returns None where API Gateway says 404."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        compiled = [_compile(route) for route in routes]
        self._routes = sorted(compiled, key=lambda item: item.rank)

    def __iter__(self) -> Iterator[HttpRoute]:
        return (item.route for item in self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def match(self, method: str, path: str) -> RouteMatch | None:
        method = method.upper()
        for item in self._routes:
            if item.route.method not in (method, "ANY"):
                continue
            found = item.pattern.fullmatch(path)
            if found is None:
                continue
            parameters = {name: unquote(found.group(f"p{i}")) for i, name in enumerate(item.names)}
            return RouteMatch(item.route, parameters)
        return None
