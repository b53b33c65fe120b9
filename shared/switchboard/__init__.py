"""Switchboard's first-party code, shipped to every function as the SharedLayer."""
