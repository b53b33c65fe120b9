"""A reconciliation run's outcome as metrics: what the dashboard shows and the alarms watch."""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.models.reconcile import ProviderStats
from switchboard.observability import count_by_provider, service_metric


def emit_outcome(stats: Mapping[str, ProviderStats], *, failed: bool) -> None:
    """ReconciledMissing (messages backfilled) by provider (the dashboard) and in total,
    ReconciledMissingPercent (the share of listed *inbound* messages whose webhook never came: 100 - the
    webhook capture rate; an outbound message sent from another tool - the Twilio console, the OpenPhone
    app - never had a webhook to lose) and ReconcileRunFailed: the last three with the service dimension
    only, which is what the alarms watch."""
    from aws_lambda_powertools.metrics import MetricUnit

    backfilled = sum(values.new_messages for values in stats.values())
    inbound = sum(values.inbound_listed for values in stats.values())
    missed = sum(values.inbound_missing for values in stats.values())
    for provider, values in stats.items():
        count_by_provider("ReconciledMissing", provider, values.new_messages)
    service_metric("ReconciledMissing", backfilled)
    if inbound:
        service_metric("ReconciledMissingPercent", round(100.0 * missed / inbound, 4), MetricUnit.Percent)
    service_metric("ReconcileRunFailed", 1 if failed else 0)
