"""bench/ingest: IngestFunction against a Powertools-style baseline. Run with `make bench`.

Kept import-free on purpose: the memory benchmark's child processes import modules from this package
and must not pay for anything they do not use.
"""
