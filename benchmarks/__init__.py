"""Benchmarks: ``python -m benchmarks.<area> [--quick] [--json FILE]``."""
