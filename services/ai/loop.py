"""The tool loop: model -> tool calls -> results -> model, until it answers, bounded in rounds, time and money.

Each round is one model call through the chain, reserved against the tenant's daily spend cap before it runs and
settled after, so the cap covers the whole loop; the loop shares one deadline, so the customer waits a bounded
time whatever the model asks for. After `tools.max_rounds` rounds the model is asked once more with no tools
offered: it must answer with what it has. Every call is a trace step `tool:<name>`; its outcome, result count and
latency are trace attributes `tool_<i>_outcome`, `tool_<i>_results`, `tool_<i>_latency_s`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from schemas.envelope import Trace
from services.ai.cost import PriceTable
from services.ai.metrics import AIMetrics
from services.ai.ports import ModelPort, SpendPort, ToolPort
from services.ai.prompt import Message
from services.ai.providers import LLMRequest, LLMResult
from services.ai.tenant import TenantAI
from services.ai.toolspec import ToolCall, ToolResult

MAX_CALLS_PER_ROUND = 5
MIN_CALL_S = 0.05


@dataclass
class LoopOutcome:
    result: LLMResult | None = None  # the model's last answer; None when the loop ended without one
    provider: str | None = None
    failure: str | None = None  # spend_cap, llm_unavailable, timeout
    handoff_reason: str | None = None  # the model called the handoff tool
    attempts: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # what the tools answered (the price guard's facts)
    rounds: int = 0
    tool_calls: int = 0
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    conversation_usd: float = 0.0
    day_usd: float = 0.0


class ToolLoop:
    def __init__(self, chain: ModelPort, ledger: SpendPort, prices: PriceTable, tools: ToolPort,
                 metrics: AIMetrics, clock: Callable[[], float] = time.monotonic) -> None:
        self._chain = chain
        self._ledger = ledger
        self._prices = prices
        self._tools = tools
        self._metrics = metrics
        self._clock = clock

    async def run(self, t: TenantAI, conversation: str, req: LLMRequest, cap_usd: float, budget_s: float,
                  trace: Trace) -> LoopOutcome:
        out = LoopOutcome()
        deadline = self._clock() + budget_s
        specs = self._tools.specs(t)
        messages = list(req.messages)
        while True:
            left = deadline - self._clock()
            if left <= MIN_CALL_S:
                out.failure = "timeout"
                return out
            offered = specs if out.rounds < t.tools.max_rounds else ()
            call = replace(req, messages=list(messages), tools=offered, timeout_s=min(req.timeout_s, left))
            r = await self._model(t, conversation, call, cap_usd, left, out)
            if r is None:
                return out
            if not r.tool_calls or not offered:
                out.result = r
                return out
            out.rounds += 1
            self._metrics.tool_rounds.observe(out.rounds)
            messages.append(Message("assistant", r.text, tool_calls=r.tool_calls))
            for i, c in enumerate(r.tool_calls):
                if i >= MAX_CALLS_PER_ROUND:  # every call id still needs its result
                    res = ToolResult.error("error", f"at most {MAX_CALLS_PER_ROUND} tool calls at a time")
                else:
                    res = await self._call(t, c.name, c, deadline, trace, out)
                messages.append(Message("tool", res.content, tool_call_id=c.id, tool_error=not res.ok))
                if res.handoff_reason is not None:
                    out.result, out.handoff_reason = r, res.handoff_reason
                    return out

    async def _model(self, t: TenantAI, conversation: str, req: LLMRequest, cap_usd: float, left: float,
                     out: LoopOutcome) -> LLMResult | None:
        hold = await self._ledger.reserve(t.tenant, self._prices.worst_case(req), cap_usd)
        if hold is None:  # the day's spend plus what calls in flight may still cost would pass the cap
            self._metrics.spend_cap_hits.labels(tenant=t.tenant).inc()
            out.failure = "spend_cap"
            return None
        try:
            async with asyncio.timeout(left):
                res = await self._chain.complete(req)
        except TimeoutError:
            await self._ledger.release(hold)
            out.failure = "timeout"
            return None
        except BaseException:
            await self._ledger.release(hold)
            raise
        out.attempts += res.attempts
        if res.result is None:
            await self._ledger.release(hold)
            out.failure = "llm_unavailable"
            return None
        r = res.result
        out.model_calls += 1
        out.provider = res.provider
        self._metrics.tokens.labels(tenant=t.tenant, model=r.model, kind="input").inc(r.input_tokens)
        self._metrics.tokens.labels(tenant=t.tenant, model=r.model, kind="output").inc(r.output_tokens)
        usd = self._prices.cost(r.model, r.input_tokens, r.output_tokens, requested=req.model)
        self._metrics.cost.labels(tenant=t.tenant, model=r.model).inc(usd)
        out.conversation_usd, out.day_usd = await self._ledger.settle(hold, conversation, usd)
        out.input_tokens += r.input_tokens
        out.output_tokens += r.output_tokens
        out.usd += usd
        return r

    async def _call(self, t: TenantAI, name: str, c: ToolCall, deadline: float, trace: Trace,
                    out: LoopOutcome) -> ToolResult:
        started = self._clock()
        res = await self._tools.run(t, c, max(MIN_CALL_S, deadline - started))
        latency = max(0.0, self._clock() - started)
        out.tool_calls += 1
        n = out.tool_calls
        trace.step(f"tool:{name}")
        trace.attrs.update({f"tool_{n}_outcome": res.outcome, f"tool_{n}_results": res.count,
                            f"tool_{n}_latency_s": round(latency, 4)})
        self._metrics.tool_calls.labels(tenant=t.tenant, tool=name, outcome=res.outcome).inc()
        self._metrics.tool_latency.labels(tool=name).observe(latency)
        if res.ok:
            out.evidence.append(res.content)
        return res
