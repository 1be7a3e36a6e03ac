"""The guardrails decision for one inbound message: dedupe -> window clock -> tenant -> shadow mode -> flood
limit -> classify -> route. Ports in, events out; the runtime produces what this returns.

A journey that ends here (duplicate, unknown tenant, shadow mode, flood, ignored) persists its trace; the others
travel on in the events this returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas import topics
from schemas.envelope import Envelope, derive_id, utcnow
from schemas.events import (
    AnswerRequested,
    AnswerRequestedPayload,
    HandoffRequested,
    HandoffRequestedPayload,
    MessageReceived,
    ReplyRequested,
    ReplyRequestedPayload,
    caused_by,
)
from services.guardrails.budget import BUDGET_RULE
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.ports import Dedupe, Flood, Pending, Shadow, Tenants, TraceSink, Window
from services.guardrails.route import Decision, decide
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store import TraceRecord, Turn
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)
STAGE = "guardrails"


@dataclass(frozen=True)
class Ports:
    dedupe: Dedupe
    window: Window
    shadow: Shadow
    flood: Flood
    pending: Pending
    tenants: Tenants
    store: TraceSink


@dataclass(frozen=True)
class Limits:
    human_active_ttl_s: int = 12 * 3600
    coalesce_window_s: float = 1.5


class GuardrailsHandler:
    def __init__(self, ports: Ports, metrics: GuardrailsMetrics, limits: Limits | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.p, self.m, self.limits, self.clock = ports, metrics, limits or Limits(), clock

    async def __call__(self, event: Envelope, meta: RecordMeta) -> list[Emit]:
        if not isinstance(event, MessageReceived):
            raise PermanentError(f"guardrails expects MessageReceived, got {event.type}")
        ev = event.model_copy(deep=True)  # the trace is appended to; a retry must start from the original
        started = self.clock()
        msg, conv, tr = ev.payload, ev.conversation, ev.trace

        if not await self.p.dedupe.claim(ev.tenant, msg.message_id, f"{meta.topic}:{meta.partition}:{meta.offset}"):
            tr.step("dedupe:duplicate")
            self.m.duplicates.labels(ev.tenant).inc()
            return await self._end(ev, started, "duplicate")
        tr.step("dedupe:new")
        await self.p.window.touch(conv, msg.timestamp)
        tr.step("window:touched")

        tenant = self.p.tenants.get(ev.tenant)
        if tenant is None:
            tr.step("tenant:unknown")
            self.m.unknown_tenant.inc()
            return await self._end(ev, started, "unknown_tenant")
        tr.attrs["tenant_name"] = tenant.name
        # Every message is a customer turn (idempotent by its id): the model's context, the operator's view and a
        # privacy export read the whole conversation, not only the business's side of it.
        await self.p.store.append_turn(Turn(ev.tenant, msg.sender.user, msg.timestamp, "customer",
                                            msg.text or f"[{msg.message_type}]", (msg.message_id,)))
        tr.step("turn:stored")

        if await self.p.shadow.is_active(conv):
            return await self._shadow(ev, started)
        tr.step("shadow:off")

        if not await self.p.flood.admit(conv, msg.message_id, started.timestamp()):
            return await self._flood(ev, tenant, started)
        tr.step("flood:ok")

        d = decide(msg, tenant, started)
        if d.rule == BUDGET_RULE:
            self.m.classify_budget.labels(ev.tenant).inc()
        tr.step(f"classify:{d.message_type}:{d.intent}:{d.rule}")
        tr.step(f"route:{d.route}")
        tr.route, tr.message_type, tr.intent = d.route, d.message_type, d.intent
        tr.attrs["rule"] = d.rule
        self.m.messages.labels(ev.tenant, d.message_type, d.intent, d.route, msg.channel).inc()
        if d.route == "handoff":
            created = await self.p.shadow.activate(conv, d.reason or "handoff", STAGE, self.limits.human_active_ttl_s)
            tr.step("shadow:activated" if created else "shadow:already_active")
        if d.route == "ai":
            await self.p.pending.push(conv, msg.message_id, msg.text or "", msg.timestamp.timestamp())
        if d.route == "ignore":
            return await self._end(ev, started, "ignored")
        tr.timed(STAGE, started, self.clock())
        self.m.duration.labels(ev.tenant).observe((self.clock() - started).total_seconds())
        return self._emits(ev, d, started)

    # ---- routes --------------------------------------------------------------------------------------------
    def _emits(self, ev: MessageReceived, d: Decision, now: datetime) -> list[Emit]:
        msg = ev.payload
        out: list[Emit] = []
        if d.route == "ai":
            out.append(Emit(topics.AI_REQUESTS, caused_by(AnswerRequested, ev, STAGE, AnswerRequestedPayload(
                channel=msg.channel, message_id=msg.message_id, to=msg.sender, text=msg.text or "",
                message_type=msg.message_type, intent=d.intent, language="es",
                not_before=now + timedelta(seconds=self.limits.coalesce_window_s)))))
            return out
        if d.route == "handoff":
            # The notifier tells the customer (tenant handoff wording) and notifies the people.
            return [self._handoff(ev, d.reason or "handoff")]
        if d.text:
            out.append(self._reply(ev, d.text, d.route))
        return out

    def _reply(self, ev: MessageReceived, text: str, route: str, index: int = 0) -> Emit:
        msg = ev.payload
        payload = ReplyRequestedPayload(
            reply_id=derive_id(ev.correlation_id, STAGE, index), channel=msg.channel, to=msg.sender, kind="text",
            text=text, in_reply_to=msg.message_id, origin=STAGE, route=route)
        return Emit(topics.OUTBOUND, caused_by(ReplyRequested, ev, STAGE, payload, index))

    def _handoff(self, ev: MessageReceived, reason: str) -> Emit:
        msg = ev.payload
        payload = HandoffRequestedPayload(
            channel=msg.channel, message_id=msg.message_id, to=msg.sender, reason=reason,
            text=msg.text or f"[{msg.message_type}]", requested_by=STAGE, ttl_s=self.limits.human_active_ttl_s)
        return Emit(topics.HANDOFF, caused_by(HandoffRequested, ev, STAGE, payload))

    async def _shadow(self, ev: MessageReceived, started: datetime) -> list[Emit]:
        """A person has the conversation: the bot stays silent (the message is already a customer turn, and the
        notifier, which reads wa.inbound.v1 too, relays it to the tenant's people)."""
        ev.trace.step("shadow:human_active")
        self.m.shadow.labels(ev.tenant).inc()
        return await self._end(ev, started, "shadow")

    async def _flood(self, ev: MessageReceived, tenant: Tenant, started: datetime) -> list[Emit]:
        """Over the limit: recorded, not answered; the first one in the window gets a polite notice."""
        ev.trace.step("flood:dropped")
        self.m.flood.labels(ev.tenant).inc()
        out: list[Emit] = []
        if await self.p.flood.notice_once(ev.conversation, ev.payload.message_id):
            ev.trace.step("flood:notice")
            self.m.flood_notices.labels(ev.tenant).inc()
            ev.trace.timed(STAGE, started, self.clock())
            out.append(self._reply(ev, tenant.wording.flood_notice, "flood_notice"))
        await self._end(ev, started, "flood")
        return out

    async def _end(self, ev: MessageReceived, started: datetime, outcome: str) -> list[Emit]:
        """The journey ends here: persist the trace (the store is the only place it lands)."""
        if not any(s.stage == STAGE for s in ev.trace.stages):
            ev.trace.timed(STAGE, started, self.clock())
        await self.p.store.write_trace(TraceRecord.from_event(ev, outcome, ts=self.clock()))
        log.debug("journey ended in guardrails: %s", outcome)
        return []
