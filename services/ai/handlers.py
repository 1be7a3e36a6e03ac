"""The AI stage's decision logic: AnswerRequested in, ReplyRequested (and maybe HandoffRequested) out.

Everything outside (Redis, the store, the models) comes in through the Protocols of `ports.py`, so this reads top
to bottom: coalesce -> cache -> context -> tool loop (model chain, tools, spend cap, cost) -> output guard -> events.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.envelope import Envelope, Trace, derive_id, parse_conversation_key, utcnow
from schemas.events import (
    AnswerRequested,
    HandoffRequested,
    HandoffRequestedPayload,
    Order,
    OutboundMedia,
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
from services.ai.interactive import Rich, choices, tap_text
from services.ai.loop import ToolLoop
from services.ai.metrics import AIMetrics
from services.ai.ports import (
    AnswerCachePort,
    CancelPort,
    CoalescePort,
    ContextSource,
    ModelPort,
    SpendPort,
    ToolPort,
    TraceWriter,
)
from services.ai.prompt import Answer, build_messages, customer_text, flow_text, parse_answer
from services.ai.providers import LLMRequest
from services.ai.tenant import TenantAI, TenantSource, fallback_answer
from services.ai.toolspec import NO_TOOLS, ToolCall
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store.port import TraceRecord

log = logging.getLogger(__name__)
STAGE = "ai"
ORDER_ITEMS_MAX = 10  # items of a cart looked up by name; the others keep their ids


@dataclass
class Decision:
    answer: Answer
    route: str  # ai, ai_cache, ai_fallback, ai_handoff
    interactive: dict[str, Any] | None = None  # the choices, as a product, list or buttons body (`interactive.py`)
    image_link: str | None = None  # one product without a Meta catalog id: its image, the answer as caption


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
    answers: CancelPort
    tools: ToolPort = NO_TOOLS
    default_spend_cap_usd: float = 20.0
    input_max_chars: int = 1200
    answer_budget_s: float = 20.0  # the whole answer: every model round and tool call
    clock: Callable[[], float] = time.monotonic  # what the answer's deadline is measured on


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
        if reason := await self.d.answers.cancelled(event.tenant, p.message_id):
            return await self._cancelled(event, reason)

        entries, read_count = await self.d.buffer.wait_quiet(event.conversation, p.not_before)
        # Deleted or edited while the burst was waiting (guardrails marks it before taking it off the list).
        if reason := await self.d.answers.cancelled(event.tenant, p.message_id):
            return await self._cancelled(event, reason)
        started_at, t0 = utcnow(), time.monotonic()
        # a Flow's fields, or a tap on one of our lists or buttons, framed as such
        titles = await self._order_titles(t, p.order) if p.order is not None else None
        own = flow_text(p.flow) if p.flow is not None else tap_text(p.text, p.reply_id, p.order, p.referred_product,
                                                                    titles)
        texts = [own if e.message_id == p.message_id else e.text for e in entries]
        covered = [e.message_id for e in entries]
        if p.message_id not in covered:  # guardrails did not buffer it (or it was trimmed): answer it anyway
            texts.append(own)
            covered.append(p.message_id)
        trace = event.child_trace()
        trace.attrs["ai_messages"] = len(covered)
        decision = await self._decide(event, t, texts, covered, trace)
        trace.timed(STAGE, started_at)
        emits = self._emits(event, decision, trace, covered)
        await self.d.buffer.finish(event.conversation, read_count, covered, p.message_id, event.correlation_id,
                                   {"emits": [{"topic": e.topic, "event": encode_event(e.event).decode()}
                                              for e in emits]})
        self.d.metrics.answers.labels(tenant=event.tenant, outcome=decision.route, channel=p.channel).inc()
        self.d.metrics.answer_latency.observe(time.monotonic() - t0)
        return emits

    async def _order_titles(self, t: TenantAI, order: Order) -> dict[str, str]:
        """The names of a cart's items, from the tenant's catalog (the get_product tool), so the model can name
        them; an item the catalog does not know (or a tenant without one) keeps just its id."""
        titles: dict[str, str] = {}
        for n, item in enumerate(order.items[:ORDER_ITEMS_MAX]):
            rid = item.product_retailer_id
            got = await self.d.tools.run(t, ToolCall(f"order_item_{n}", "get_product", json.dumps({"id": rid})),
                                         t.timeout_s)
            try:
                product = json.loads(got.content).get("product") if got.ok else None
            except (ValueError, AttributeError):
                product = None
            if isinstance(product, dict) and product.get("title"):
                titles[rid] = str(product["title"])
        return titles

    async def _cancelled(self, event: AnswerRequested, reason: str) -> Sequence[Emit]:
        """The customer deleted or edited the message before it was answered: no model call, no reply. Its
        pending entry is a tombstone that the next answer of the conversation consumes."""
        ended = event.model_copy(update={"trace": event.child_trace()})
        ended.trace.step(f"ai:cancelled:{reason}")
        await self.d.traces.write_trace(TraceRecord.from_event(ended, "cancelled", ts=utcnow()))
        self.d.metrics.answers.labels(tenant=event.tenant, outcome="cancelled", channel=event.payload.channel).inc()
        return []

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

        user = parse_conversation_key(event.conversation).user  # the customer's key: their history, whatever ids
        history = await self.d.context.last_turns(event.tenant, user, 6)
        # the burst goes last, once (an edit's original too: its turn holds the edit's text now); what the customer
        # deleted is not shown to the model
        skip = set(covered) | ({event.payload.replaces} if event.payload.replaces else set())
        history = [h for h in history if not set(h.message_ids) & skip and not h.deleted]
        req = LLMRequest(build_messages(t, history, texts, self.d.input_max_chars), t.model, t.max_output_tokens,
                         t.temperature, t.timeout_s)
        cap = t.daily_spend_cap_usd if t.daily_spend_cap_usd is not None else self.d.default_spend_cap_usd
        loop = ToolLoop(self.d.chain, self.d.ledger, self.d.prices, self.d.tools, self.d.metrics, self.d.clock)
        out = await loop.run(t, event.conversation, req, cap, self.d.answer_budget_s, trace)
        if out.attempts:
            trace.attrs["llm_attempts"] = ",".join(out.attempts)
        if out.tool_calls:
            trace.attrs.update({"tool_calls": out.tool_calls, "tool_rounds": out.rounds})
        if out.model_calls:
            trace.llm_called = True
            trace.attrs.update({"llm_provider": out.provider, "llm_model": out.result.model if out.result else None,
                                "llm_calls": out.model_calls, "llm_input_tokens": out.input_tokens,
                                "llm_output_tokens": out.output_tokens, "llm_cost_usd": round(out.usd, 8),
                                "conversation_cost_usd": round(out.conversation_usd, 8),
                                "tenant_day_cost_usd": round(out.day_usd, 6)})
        if out.result is None:
            return self._fallback(event, t, question, trace, out.failure or "llm_unavailable")
        r, provider = out.result, out.provider
        if out.handoff_reason is not None:  # the model called the handoff tool
            if (bad := guard.check_reason(out.handoff_reason, t)) is not None:
                return self._fallback(event, t, question, trace, f"guard_handoff_{bad}")
            trace.step("ai:handoff")
            return Decision(Answer("", True, out.handoff_reason), "ai_handoff")

        answer = parse_answer(r.text)
        if answer.handoff:
            if (bad := guard.check_reason(answer.reason, t)) is not None:  # the reason reaches the tenant's staff
                return self._fallback(event, t, question, trace, f"guard_handoff_{bad}")
            trace.step("ai:handoff")
            return Decision(answer, "ai_handoff")
        bad = guard.check(answer.answer, t, facts=out.evidence)
        if bad is not None:
            return self._fallback(event, t, question, trace, f"guard_{bad}")
        trace.step(f"ai:answered:{provider}")
        # stored only when it belongs to nobody (see cache_refusal) and read no tool result (stock, prices move)
        if key is not None and not out.tool_calls:
            refused = cache_refusal(answer.answer, question, t, history)
            self.d.metrics.cache_hits.labels(tenant=event.tenant,
                                             outcome=f"refused_{refused}" if refused else "stored").inc()
            if refused is None:
                await self.d.cache.put(key, answer)
        rich: Rich | None = choices(answer.answer, out.evidence, t.tools.meta_catalog_id) \
            if t.tools.interactive and event.payload.channel == "whatsapp" else None
        if rich is None:
            return Decision(answer, "ai")
        trace.step(f"ai:interactive:{rich.interactive['type']}" if rich.interactive else "ai:image")
        return Decision(answer, "ai", rich.interactive, rich.image_link)

    def _fallback(self, event: AnswerRequested, t: TenantAI, question: str, trace: Trace, reason: str) -> Decision:
        text, source = fallback_answer(t, question)
        self.d.metrics.fallbacks.labels(tenant=event.tenant, reason=reason).inc()
        trace.step(f"ai:fallback:{reason}")
        trace.attrs["fallback_source"] = source
        log.info("fallback answer tenant=%s reason=%s source=%s", event.tenant, reason, source)
        return Decision(Answer(text, False, reason), "ai_fallback")

    def _emits(self, event: AnswerRequested, d: Decision, trace: Trace, covered: list[str]) -> list[Emit]:
        p = event.payload
        trace.route = d.route
        carrier = event.model_copy(update={"trace": trace})
        if d.route == "ai_handoff":
            # the notifier activates shadow mode and sends the customer the tenant's handoff wording
            return [Emit(HANDOFF, caused_by(HandoffRequested, carrier, STAGE, HandoffRequestedPayload(
                channel=p.channel, message_id=p.message_id, to=p.to, reason="ai_cannot_help",
                text=d.answer.reason or p.text[:500], requested_by=STAGE)))]
        kind = "interactive" if d.interactive else "image" if d.image_link else "text"
        reply = caused_by(ReplyRequested, carrier, STAGE, ReplyRequestedPayload(
            reply_id=derive_id(event.correlation_id, STAGE, 0), channel=p.channel, to=p.to, kind=kind,
            text=d.answer.answer, interactive=d.interactive,
            media=OutboundMedia(link=d.image_link, caption=d.answer.answer) if d.image_link else None,
            in_reply_to=p.message_id, origin=STAGE, route=d.route, covers=covered))
        return [Emit(OUTBOUND, reply)]
