"""The daily spend cap on real Redis: budget is reserved before a call at its worst case and settled to its real
cost after, so concurrent calls cannot all pass a cap that each would pass alone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from schemas.events import ReplyRequested
from services.ai.cost import PriceTable, SpendLedger
from services.ai.prompt import build_messages
from services.ai.providers import LLMRequest, LLMResult, ProviderError
from tests.integration.ai.conftest import Wired, tenant_with
from tests.support import unique
from tests.unit.ai.fixtures import request
from wapipe.runtime.types import RecordMeta

META = RecordMeta(topic="wa.ai.requests.v1", partition=0, offset=0, key=None, timestamp_ms=None)
MINI = (0.15, 0.60)


class Clock:
    def __init__(self, now: float = 1_780_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_concurrent_reservations_never_pass_the_cap(redis_client: Any) -> None:
    ledger, tenant, worst = SpendLedger(redis_client), unique("pn"), 0.01
    k, n = 3, 20
    held = await asyncio.gather(*(ledger.reserve(tenant, worst, cap_usd=k * worst + worst / 2) for _ in range(n)))
    assert sum(h is not None for h in held) == k
    assert await ledger.held_today(tenant) == pytest.approx(k * worst)
    assert await ledger.spent_today(tenant) == 0


async def test_settle_replaces_the_reservation_by_the_real_cost_and_release_gives_it_back(redis_client: Any) -> None:
    ledger, tenant = SpendLedger(redis_client), unique("pn")
    first = await ledger.reserve(tenant, 0.05, cap_usd=0.08)
    assert first is not None and await ledger.reserve(tenant, 0.05, cap_usd=0.08) is None  # 0.05 + 0.05 > 0.08

    conv_total, day_total = await ledger.settle(first, f"{tenant}:573001112233", 0.004)
    assert (conv_total, day_total) == (pytest.approx(0.004), pytest.approx(0.004))
    assert await ledger.spent_today(tenant) == pytest.approx(0.004) and await ledger.held_today(tenant) == 0
    second = await ledger.reserve(tenant, 0.05, cap_usd=0.08)  # 0.004 spent + 0.05 fits now
    assert second is not None
    await ledger.release(second)
    assert await ledger.held_today(tenant) == 0 and await ledger.spent_today(tenant) == pytest.approx(0.004)
    await ledger.release(second)  # twice is harmless
    assert await redis_client.hget(f"wapipe:llm:holds:{tenant}:{second.day}", "_total") == b"0"


async def test_a_reservation_whose_holder_died_expires_with_its_lease(redis_client: Any) -> None:
    clock = Clock()
    ledger, tenant = SpendLedger(redis_client, lease_s=60, clock=clock), unique("pn")
    stale = await ledger.reserve(tenant, 0.05, cap_usd=0.08)
    assert stale is not None and await ledger.reserve(tenant, 0.05, cap_usd=0.08) is None
    clock.now += 61  # the process holding it never settled
    fresh = await ledger.reserve(tenant, 0.05, cap_usd=0.08)
    assert fresh is not None and await ledger.held_today(tenant) == pytest.approx(0.05)
    await ledger.settle(stale, f"{tenant}:573001112233", 0.01)  # a late settle still counts what was spent
    assert await ledger.spent_today(tenant) == pytest.approx(0.01)
    assert await ledger.held_today(tenant) == pytest.approx(0.05)  # and leaves the live reservation alone


class GatedProvider:
    """Answers only when the test opens the gate, so every admitted call is in flight at once."""

    name = "gated"

    def __init__(self, fail: bool = False) -> None:
        self.entered = 0
        self.gate = asyncio.Event()
        self.fail = fail

    async def complete(self, req: LLMRequest) -> LLMResult:
        self.entered += 1
        await self.gate.wait()
        if self.fail:
            raise ProviderError("error_5xx", "HTTP 503")
        # OpenAI names the dated snapshot, not the model that was asked for.
        return LLMResult('{"answer": "Claro, te ayudamos con eso.", "handoff": false}', "gpt-4o-mini-2024-07-18",
                         50, 20)

    async def close(self) -> None:
        return None


async def _until(ok: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not ok():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_concurrent_answers_with_a_budget_for_k_call_the_model_at_most_k_times(
        wire: Callable[..., Wired], redis_client: Any) -> None:
    n, k = 12, 4
    questions = [f"¿tienen la referencia {i:03d} en talla 38?" for i in range(n)]  # equal length: equal worst case
    tenant = tenant_with(daily_spend_cap_usd=1.0)
    prices = PriceTable({"gpt-4o-mini": MINI}, (1.0, 3.0))
    worst = prices.worst_case(LLMRequest(build_messages(tenant, [], [questions[0]], 1200), tenant.model,
                                         tenant.max_output_tokens, tenant.temperature, tenant.timeout_s))
    tenant = tenant_with(daily_spend_cap_usd=k * worst + worst / 2)
    provider = GatedProvider()
    w = wire(tenant, providers=[provider])

    tasks = [asyncio.create_task(w.handler(request(q, tenant=tenant), META)) for q in questions]
    await _until(lambda: provider.entered + sum(t.done() for t in tasks) == n)
    assert provider.entered == k  # the rest were refused before calling the model
    provider.gate.set()
    replies = [r[0].event for r in await asyncio.gather(*tasks)]
    assert all(isinstance(r, ReplyRequested) for r in replies)
    routes = sorted(r.trace.route or "" for r in replies)
    assert routes == ["ai"] * k + ["ai_fallback"] * (n - k)
    assert sum("ai:fallback:spend_cap" in r.trace.decision_path for r in replies) == n - k
    assert w.metric("wapipe_llm_spend_cap_hits_total", tenant=tenant.tenant) == n - k

    ledger = SpendLedger(redis_client)
    real = (50 * MINI[0] + 20 * MINI[1]) / 1_000_000  # the snapshot priced as gpt-4o-mini
    assert await ledger.spent_today(tenant.tenant) == pytest.approx(k * real)
    assert await ledger.held_today(tenant.tenant) == 0


async def test_a_failed_call_gives_its_reservation_back(wire: Callable[..., Wired], redis_client: Any) -> None:
    provider = GatedProvider(fail=True)
    provider.gate.set()
    w = wire(tenant_with(daily_spend_cap_usd=1.0), providers=[provider])
    reply = (await w.handler(request("¿tienen botas impermeables talla 40?"), META))[0].event
    assert reply.trace.route == "ai_fallback" and "ai:fallback:llm_unavailable" in reply.trace.decision_path
    ledger = SpendLedger(redis_client)
    assert await ledger.held_today(reply.tenant) == 0 and await ledger.spent_today(reply.tenant) == 0
