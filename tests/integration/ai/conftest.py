"""The simulator's OpenAI-compatible model over HTTP, and the AI handler wired to it and to the real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from services.ai.cache import AnswerCache
from services.ai.chain import LLMChain
from services.ai.coalesce import PendingBuffer
from services.ai.cost import PriceTable, SpendLedger
from services.ai.handlers import AIDeps, AIHandler
from services.ai.metrics import AIMetrics
from services.ai.providers import Provider
from services.ai.providers.openai_compat import OpenAIProvider
from services.ai.tenant import TenantAI
from tests.fakes.store import MemoryStore
from tests.unit.ai.fixtures import TENANT, Tenants
from wapipe.state.answers import Answers
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState


@pytest.fixture(scope="module")
def sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False)) as s:
        yield s


@pytest.fixture
def set_llm(sim: BackgroundSimulator) -> Iterator[Callable[..., None]]:
    def _set(**cfg: Any) -> None:
        httpx.post(f"{sim.url}/_sim/llm", json=cfg, timeout=5).raise_for_status()

    _set()
    yield _set
    _set()


@dataclass
class Wired:
    handler: AIHandler
    registry: CollectorRegistry
    store: MemoryStore  # the context's turns and the traces
    chain: LLMChain

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def wire(sim: BackgroundSimulator, redis_client: Any) -> AsyncIterator[Callable[..., Wired]]:
    chains: list[LLMChain] = []

    def _wire(tenant: TenantAI = TENANT, providers: list[Provider] | None = None, **chain_opts: Any) -> Wired:
        reg = CollectorRegistry()
        metrics = AIMetrics(reg)
        if providers is None:
            providers = [OpenAIProvider(base_url=f"{sim.url}/v1", api_key="dev-openai-key",
                                        default_model="gpt-4o-mini", timeout_s=tenant.timeout_s)]
        opts = {"retries_on_5xx": 1, "total_budget_s": 6.0, "backoff_s": 0.05} | chain_opts
        chain = LLMChain(providers, metrics, **opts)
        chains.append(chain)
        store = MemoryStore()
        deps = AIDeps(tenants=Tenants(tenant), context=store, traces=store, chain=chain,
                      cache=AnswerCache(redis_client, 3600), ledger=SpendLedger(redis_client),
                      prices=PriceTable({"gpt-4o-mini": (0.15, 0.60)}, (1.0, 3.0)),
                      buffer=PendingBuffer(redis_client, window_s=0.3, max_wait_s=2.0), metrics=metrics,
                      answers=Answers(redis_client))
        return Wired(AIHandler(deps), reg, store, chain)

    yield _wire
    for c in chains:
        await c.close()


def tenant_with(**changes: Any) -> TenantAI:
    return replace(TENANT, **changes)
