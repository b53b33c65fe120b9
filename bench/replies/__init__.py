"""The reply loop's benchmark: throughput with a model answering at a realistic latency, AWS calls per
auto-replied job, and cost per 1,000 replies from the AI usage telemetry. See __main__.py."""
