"""bench/reconcile: a reconciliation run over the sandbox's OpenPhone list against its rate-limit floor.

Run with `make bench-reconcile` (or `.venv/bin/python -m bench.reconcile`). Reuses bench/ingest's
environment, call counter and Figure, and bench/report.py for the document and the table.
"""
