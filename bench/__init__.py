"""Benchmarks. Each reports its figures as ratios against a baseline measured in the same run."""
