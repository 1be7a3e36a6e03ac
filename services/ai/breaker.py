"""A circuit breaker per provider: stop calling a backend that keeps failing, probe it again after a cool-down.

closed --N consecutive failures--> open --cool-down--> half_open (one probe call) --ok--> closed / --fail--> open
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.ai.metrics import AIMetrics


class CircuitBreaker:
    def __init__(self, name: str, metrics: AIMetrics, *, failures: int = 5, cooldown_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._metrics = metrics
        self._threshold = failures
        self._cooldown = cooldown_s
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self.state = "closed"
        metrics.set_circuit(name, "closed")

    def _set(self, state: str) -> None:
        self.state = state
        self._metrics.set_circuit(self.name, state)

    def allow(self) -> bool:
        """True when a call may go out now; in half-open only one probe at a time."""
        if self.state == "open" and self._clock() - self._opened_at >= self._cooldown:
            self._set("half_open")
        if self.state == "closed":
            return True
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        self._failures = 0
        self._probing = False
        if self.state != "closed":
            self._set("closed")

    def failure(self) -> None:
        self._failures += 1
        was_probe, self._probing = self._probing, False
        if was_probe or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._set("open")
