"""The AI stage's decision logic: AnswerRequested in, ReplyRequested (and maybe HandoffRequested) out.

Everything outside (Redis, the store, the models) comes in through the Protocols of `ports.py`, so this reads top
to bottom: coalesce -> cache -> spend cap -> context -> model chain -> cost -> output guard -> events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.envelope import Envelope, Trace, derive_id, utcnow
from schemas.events import (
    AnswerRequested,
    HandoffRequested,
    HandoffRequestedPayload,
    ReplyRequested,
    ReplyRequestedPayload,
    caused_by,
    decode_event,
    encode_event,
)
from schemas.topics import HANDOFF, OUTBOUND
from services.ai import guard
from services.ai.cache import cache_key, cache_refusal
from services.ai.cost import PriceTable
from services.ai.metrics import AIMetrics
from services.ai.ports import AnswerCachePort, CoalescePort, ContextSource, ModelPort, SpendPort, TraceWriter
from services.ai.prompt import Answer, build_messages, customer_text, parse_answer
from services.ai.providers import LLMRequest
from services.ai.tenant import TenantAI, TenantSource, fallback_answer
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store.port import TraceRecord

log = logging.getLogger(__name__)
STAGE = "ai"


@dataclass
class Decision:
    answer: Answer
    route: str  # ai, ai_cache, ai_fallback, ai_handoff


@dataclass
class AIDeps:
    """The handler's ports (`ports.py`) and its pure helpers (prices, metrics on an injected registry)."""

    tenants: TenantSource
    context: ContextSource
    traces: TraceWriter
    chain: ModelPort
    cache: AnswerCachePort
    ledger: SpendPort
    prices: PriceTable
    buffer: CoalescePort
    metrics: AIMetrics
    default_spend_cap_usd: float = 20.0
    input_max_chars: int = 1200


class AIHandler:
    def __init__(self, deps: AIDeps) -> None:
        self.d = deps

    async def __call__(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if not isinstance(event, AnswerRequested):
            raise PermanentError(f"ai consumes AnswerRequested, got {event.type}")
        t = self.d.tenants.ai_settings(event.tenant)
        if t is None:
            raise PermanentError(f"unknown tenant {event.tenant}")
        p = event.payload
        memo = await self.d.buffer.memo(event.correlation_id)
        if memo:  # a retry of a request already answered: same events, no second model call
            return [Emit(e["topic"], decode_event(e["event"])) for e in memo["emits"]]
        coverer = await self.d.buffer.covered_by(event.conversation, p.message_id)
        if coverer and coverer != p.message_id:
            return await self._coalesced(event, coverer)

        entries, read_count = await self.d.buffer.wait_quiet(event.conversation, p.not_before)
        started_at, t0 = utcnow(), time.monotonic()
        texts = [e.text for e in entries]
        covered = [e.message_id for e in entries]
        if p.message_id not in covered:  # guardrails did not buffer it (or it was trimmed): answer it anyway
            texts.append(p.text)
            covered.append(p.message_id)
        trace = event.child_trace()
        trace.attrs["ai_messages"] = len(covered)
        decision = await self._decide(event, t, texts, covered, trace)
        trace.timed(STAGE, started_at)
        emits = self._emits(event, decision, trace)
        await self.d.buffer.finish(event.conversation, read_count, covered, p.message_id, event.correlation_id,
                                   {"emits": [{"topic": e.topic, "event": encode_event(e.event).decode()}
                                              for e in emits]})
        self.d.metrics.answers.labels(tenant=event.tenant, outcome=decision.route, channel=p.channel).inc()
        self.d.metrics.answer_latency.observe(time.monotonic() - t0)
        return emits

    async def _coalesced(self, event: AnswerRequested, coverer: str) -> Sequence[Emit]:
        ended = event.model_copy(update={"trace": event.child_trace()})
        ended.trace.step("ai:coalesced")
        ended.trace.attrs["covered_by"] = coverer
        await self.d.traces.write_trace(TraceRecord.from_event(ended, "coalesced", ts=utcnow()))
        self.d.metrics.coalesced.labels(tenant=event.tenant).inc()
        self.d.metrics.answers.labels(tenant=event.tenant, outcome="coalesced", channel=event.payload.channel).inc()
        return []

    async def _decide(self, event: AnswerRequested, t: TenantAI, texts: list[str], covered: list[str],
                      trace: Trace) -> Decision:
        question = customer_text(texts, self.d.input_max_chars)
        if guard.injection(question):  # never trust the model to refuse: it is not even asked
            return self._fallback(event, t, question, trace, "injection")
        key = cache_key(event.tenant, t.knowledge_version, question)
        if key is not None:
            hit = await self.d.cache.get(key)
            self.d.metrics.cache_hits.labels(tenant=event.tenant, outcome="hit" if hit else "miss").inc()
            if hit is not None:
                trace.cache_hit, trace.llm_called = True, False
                trace.step("ai:cache_hit")
                return Decision(hit, "ai_cache")

        history = await self.d.context.last_turns(event.tenant, event.payload.to.user, 6)
        history = [h for h in history if not set(h.message_ids) & set(covered)]  # the burst goes last, once
        req = LLMRequest(build_messages(t, history, texts, self.d.input_max_chars), t.model, t.max_output_tokens,
                         t.temperature, t.timeout_s)
        cap = t.daily_spend_cap_usd if t.daily_spend_cap_usd is not None else self.d.default_spend_cap_usd
        hold = await self.d.ledger.reserve(event.tenant, self.d.prices.worst_case(req), cap)
        if hold is None:  # the day's spend plus what calls in flight may still cost would pass the cap
            self.d.metrics.spend_cap_hits.labels(tenant=event.tenant).inc()
            return self._fallback(event, t, question, trace, "spend_cap")
        try:
            res = await self.d.chain.complete(req)
        except BaseException:
            await self.d.ledger.release(hold)
            raise
        trace.attrs["llm_attempts"] = ",".join(res.attempts)
        if res.result is None:
            await self.d.ledger.release(hold)
            return self._fallback(event, t, question, trace, "llm_unavailable")
        r = res.result
        trace.llm_called = True
        self.d.metrics.tokens.labels(tenant=event.tenant, model=r.model, kind="input").inc(r.input_tokens)
        self.d.metrics.tokens.labels(tenant=event.tenant, model=r.model, kind="output").inc(r.output_tokens)
        usd = self.d.prices.cost(r.model, r.input_tokens, r.output_tokens, requested=req.model)
        self.d.metrics.cost.labels(tenant=event.tenant, model=r.model).inc(usd)
        conv_usd, day_usd = await self.d.ledger.settle(hold, event.conversation, usd)
        trace.attrs.update({"llm_provider": res.provider, "llm_model": r.model, "llm_input_tokens": r.input_tokens,
                            "llm_output_tokens": r.output_tokens, "llm_cost_usd": round(usd, 8),
                            "conversation_cost_usd": round(conv_usd, 8), "tenant_day_cost_usd": round(day_usd, 6)})

        answer = parse_answer(r.text)
        if answer.handoff:
            if (bad := guard.check_reason(answer.reason, t)) is not None:  # the reason reaches the tenant's staff
                return self._fallback(event, t, question, trace, f"guard_handoff_{bad}")
            trace.step("ai:handoff")
            return Decision(answer, "ai_handoff")
        bad = guard.check(answer.answer, t)
        if bad is not None:
            return self._fallback(event, t, question, trace, f"guard_{bad}")
        trace.step(f"ai:answered:{res.provider}")
        if key is not None:  # stored only when it belongs to nobody: see cache_refusal
            refused = cache_refusal(answer.answer, question, t, history)
            self.d.metrics.cache_hits.labels(tenant=event.tenant,
                                             outcome=f"refused_{refused}" if refused else "stored").inc()
            if refused is None:
                await self.d.cache.put(key, answer)
        return Decision(answer, "ai")

    def _fallback(self, event: AnswerRequested, t: TenantAI, question: str, trace: Trace, reason: str) -> Decision:
        text, source = fallback_answer(t, question)
        self.d.metrics.fallbacks.labels(tenant=event.tenant, reason=reason).inc()
        trace.step(f"ai:fallback:{reason}")
        trace.attrs["fallback_source"] = source
        log.info("fallback answer tenant=%s reason=%s source=%s", event.tenant, reason, source)
        return Decision(Answer(text, False, reason), "ai_fallback")

    def _emits(self, event: AnswerRequested, d: Decision, trace: Trace) -> list[Emit]:
        p = event.payload
        trace.route = d.route
        carrier = event.model_copy(update={"trace": trace})
        if d.route == "ai_handoff":
            # the notifier activates shadow mode and sends the customer the tenant's handoff wording
            return [Emit(HANDOFF, caused_by(HandoffRequested, carrier, STAGE, HandoffRequestedPayload(
                channel=p.channel, message_id=p.message_id, to=p.to, reason="ai_cannot_help",
                text=d.answer.reason or p.text[:500], requested_by=STAGE)))]
        reply = caused_by(ReplyRequested, carrier, STAGE, ReplyRequestedPayload(
            reply_id=derive_id(event.correlation_id, STAGE, 0), channel=p.channel, to=p.to, kind="text",
            text=d.answer.answer, in_reply_to=p.message_id, origin=STAGE, route=d.route))
        return [Emit(OUTBOUND, reply)]
