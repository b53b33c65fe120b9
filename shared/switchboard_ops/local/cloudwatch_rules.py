"""How CloudWatch matches dimensions and moto 5 does not: each dimension set is its own metric.

GetMetricStatistics for {service} returns only data put under exactly {service}, never under
{service, provider}, and with no dimensions only data put with none ("CloudWatch treats each unique
combination of dimensions as a separate metric"). moto 5 returns every datum whose dimensions include the
ones asked for, so an alarm watching a dimension set that nothing emits on its own fires locally and never
in AWS, and one watching {service} also counts the per-provider copies. `cloudwatch_rules()` makes moto
match exactly for as long as it is active: the integration tests' moto and the local stack (its alarm
evaluator reads GetMetricStatistics) enter it. ListMetrics keeps moto's superset match, which is what
CloudWatch does there. It patches moto's classes only; product code is untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

# The dimension set a GetMetricStatistics on this thread asks for; None outside one (moto answers requests
# on several threads, and other callers of get_all_metrics keep moto's behaviour).
_asked = threading.local()


def dimension_set(dimensions: Any) -> frozenset[tuple[str, str | None]]:
    """{(name, value)} of moto `Dimension`s or of request dicts ({"Name": ..., "Value": ...})."""
    return frozenset(
        (item["Name"], item.get("Value")) if isinstance(item, dict) else (item.name, item.value)
        for item in dimensions or ()
    )


@contextmanager
def cloudwatch_rules() -> Iterator[None]:
    from moto.cloudwatch.models import CloudWatchBackend

    all_metrics = CloudWatchBackend.get_all_metrics
    metric_statistics = CloudWatchBackend.get_metric_statistics

    def get_all_metrics(self: Any) -> Any:
        found = all_metrics(self)
        wanted = getattr(_asked, "dimensions", None)
        return (
            found
            if wanted is None
            else [datum for datum in found if dimension_set(datum.dimensions) == wanted]
        )

    def get_metric_statistics(self: Any, *args: Any, **kwargs: Any) -> Any:
        _asked.dimensions = dimension_set(kwargs.get("dimensions", args[6] if len(args) > 6 else ()))
        try:
            return metric_statistics(self, *args, **kwargs)
        finally:
            _asked.dimensions = None

    with (
        patch.object(CloudWatchBackend, "get_all_metrics", get_all_metrics),
        patch.object(CloudWatchBackend, "get_metric_statistics", get_metric_statistics),
    ):
        yield
