"""Reconciliation: page through each provider's own message list, store (through the same idempotent
path as webhooks) every message we never received, re-enqueue stored-but-never-processed jobs, and
record the run (models/reconcile.py). A weekly integrity check compares per-day counts, provider vs.
stored.

- service.py: the Reconciler, a run from start to end;
- continuation.py: one run at a time - the lock, the run record, checkpoints and their continuations;
- paging.py: one provider's pages, stored; sweep.py: the stuck-job sweep;
- integrity.py: the weekly per-day counts; sources.py: the providers' message lists as sources;
- wiring.py: the reconciler built from the environment (ReconcileFunction's).
"""

from switchboard.services.reconcile.integrity import consistency_rate
from switchboard.services.reconcile.service import Reconciler
from switchboard.services.reconcile.sources import MessageSource, OpenPhoneSource, TwilioSource
from switchboard.services.reconcile.wiring import default_reconciler, list_bucket

__all__ = [
    "MessageSource",
    "OpenPhoneSource",
    "Reconciler",
    "TwilioSource",
    "consistency_rate",
    "default_reconciler",
    "list_bucket",
]
