"""Benchmarks: each ``python -m bench.NAME --database sqlite|postgresql|both`` prints one JSON
object as its last line: ``{"benchmark": NAME, "results": {"sqlite": {...}, "postgresql": {...}}}``."""
