"""Drafted replies: strategy, then generation (both by the model, the template as fallback), the
auto-send policy, the send of an approved draft, and the hot-lead notification."""
