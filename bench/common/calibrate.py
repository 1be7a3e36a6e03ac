"""A fixed pure-Python workload, timed: how fast this machine's cores are today, printed beside every figure.

Figures of different days on a shared or resized machine differ by the machine as much as by the code; the
workload's time says by how much (it ran 34 ms on 2026-12-01, when the figures of 2026-11-21 came from a machine
several times faster per core: `bench.store`'s SQLite p50 0.055 ms then, 0.59 ms that day)."""

from __future__ import annotations

import time


def calibration_ms(rounds: int = 5) -> float:
    """Best of `rounds` of `sum(range(10**6))`, in ms (less is faster)."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        sum(range(10**6))
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 1)
