"""What a Lambda container builds once (the services and their clients), and the one way to forget it.

A handler calls `default_service()` on every invocation; `@once_per_container` makes that call build
the service on the first invocation and hand back the same object afterwards. Tests and benches that
change the environment call `forget_per_container()` instead of resetting module globals by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper

T = TypeVar("T")

_BUILDERS: list[_lru_cache_wrapper[Any]] = []


def once_per_container(builder: Callable[..., T]) -> _lru_cache_wrapper[T]:
    """`builder` cached for the container's life and registered so `forget_per_container` can clear it."""
    cached = cache(builder)
    _BUILDERS.append(cached)
    return cached


def forget_per_container() -> None:
    """Forget every object a builder made, so the next call builds it again from the current environment."""
    for builder in _BUILDERS:
        builder.cache_clear()
