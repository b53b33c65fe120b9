"""bench/worker: WorkerFunction against the same pipeline wrapped in Powertools idempotency.

Run with `make bench-worker` (or `.venv/bin/python -m bench.worker`). Reuses bench/ingest's environment,
call counter, Figure and loaders, and bench/report.py for the document and the table.
"""
