"""Reminders: rules (when a reminder may be sent), texts, and the worker's reminder planning."""
