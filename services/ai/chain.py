"""primary -> secondary -> (caller's) deterministic fallback, each provider behind its circuit breaker.

Retries only on 5xx/connection errors, bounded, with a short backoff; a timeout is not retried on the same
provider (it already used its time). The whole chain shares one deadline so a customer waits a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from services.ai.breaker import CircuitBreaker
from services.ai.metrics import AIMetrics
from services.ai.providers import LLMRequest, LLMResult, Provider, ProviderError

log = logging.getLogger(__name__)


@dataclass
class ChainResult:
    result: LLMResult | None  # None: every provider failed or was open -> fallback
    provider: str | None = None
    attempts: list[str] = field(default_factory=list)  # "openai:timeout", "openai:ok", "bedrock:circuit_open"


class LLMChain:
    def __init__(self, providers: Sequence[Provider], metrics: AIMetrics, *, retries_on_5xx: int = 1,
                 total_budget_s: float = 12.0, circuit_failures: int = 5, circuit_cooldown_s: float = 30.0,
                 backoff_s: float = 0.2, circuit_clock: Callable[[], float] = time.monotonic) -> None:
        self.providers = list(providers)
        self.breakers = {p.name: CircuitBreaker(p.name, metrics, failures=circuit_failures,
                                                cooldown_s=circuit_cooldown_s, clock=circuit_clock)
                         for p in self.providers}
        self._metrics = metrics
        self._retries = retries_on_5xx
        self._budget = total_budget_s
        self._backoff = backoff_s

    async def complete(self, req: LLMRequest) -> ChainResult:
        out = ChainResult(result=None)
        deadline = time.monotonic() + max(self._budget, req.timeout_s)
        for p in self.providers:
            breaker = self.breakers[p.name]
            for attempt in range(self._retries + 1):
                left = deadline - time.monotonic()
                if left <= 0.05:
                    out.attempts.append(f"{p.name}:no_time")
                    return out
                if not breaker.allow():
                    self._metrics.llm_calls.labels(provider=p.name, outcome="circuit_open").inc()
                    out.attempts.append(f"{p.name}:circuit_open")
                    break
                started = time.monotonic()
                try:
                    res = await p.complete(req.with_timeout(min(req.timeout_s, left)))
                except ProviderError as e:
                    breaker.failure()
                    self._metrics.llm_calls.labels(provider=p.name, outcome=e.kind).inc()
                    self._metrics.llm_latency.labels(provider=p.name).observe(time.monotonic() - started)
                    out.attempts.append(f"{p.name}:{e.kind}")
                    log.warning("model call failed provider=%s kind=%s attempt=%d", p.name, e.kind, attempt + 1)
                    if e.kind != "error_5xx" or attempt >= self._retries:
                        break
                    await asyncio.sleep(min(self._backoff * 2**attempt, max(0.0, deadline - time.monotonic())))
                    continue
                breaker.success()
                self._metrics.llm_calls.labels(provider=p.name, outcome="ok").inc()
                self._metrics.llm_latency.labels(provider=p.name).observe(time.monotonic() - started)
                out.attempts.append(f"{p.name}:ok")
                out.result, out.provider = res, p.name
                return out
        return out

    async def close(self) -> None:
        for p in self.providers:
            await p.close()
