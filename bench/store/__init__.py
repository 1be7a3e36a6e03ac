"""Conversation store benchmarks: `python -m bench.store`."""
