"""The guardrails decision for one inbound message: dedupe -> identity move -> window clock -> tenant -> revoke
or edit -> consent keywords -> shadow mode -> flood limit -> classify -> route. Ports in, events out; the runtime
produces what this returns. A `ConsentChanged` (Meta's `user_preferences`, on the same topic) is recorded and
ends there; a `BusinessEchoReceived` (a person writing from the WhatsApp Business app) silences the bot
(`echoes.py`).

A journey that ends here (duplicate, system message, revoke, edit of an answered message, unknown tenant, shadow
mode, flood, ignored) persists its trace; the others travel on in the events this returns. `system` messages
(WhatsApp reporting an identity change) and revokes are never answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas import topics
from schemas.envelope import Envelope, derive_id, parse_conversation_key, utcnow
from schemas.events import (
    AnswerRequested,
    AnswerRequestedPayload,
    BusinessEchoReceived,
    ConsentChanged,
    HandoffRequested,
    HandoffRequestedPayload,
    MessageReceived,
    MessageReceivedPayload,
    ReplyRequested,
    ReplyRequestedPayload,
    caused_by,
)
from services.guardrails import changes
from services.guardrails.budget import BUDGET_RULE
from services.guardrails.consent import match_consent
from services.guardrails.echoes import EchoPorts, SentLookup, handle_echo
from services.guardrails.media import is_media, said
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.ports import (
    Answers,
    ConsentBook,
    Dedupe,
    Flood,
    Moves,
    Pending,
    Shadow,
    Tenants,
    TraceSink,
    Window,
)
from services.guardrails.route import Decision, decide
from wapipe.runtime.types import Emit, PermanentError, RecordMeta
from wapipe.store import ConsentChange, TraceRecord, Turn
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
    consent: ConsentBook
    answers: Answers
    moves: Moves
    sent: SentLookup | None = None  # the wamids the sender sent (echoes of them are not a person)

    @property
    def changes(self) -> changes.ChangePorts:
        return changes.ChangePorts(self.answers, self.moves, self.pending, self.store)

    @property
    def echoes(self) -> EchoPorts:
        return EchoPorts(self.dedupe, self.shadow, self.tenants, self.store, self.sent)


@dataclass(frozen=True)
class Limits:
    human_active_ttl_s: int = 12 * 3600
    coalesce_window_s: float = 1.5


class GuardrailsHandler:
    def __init__(self, ports: Ports, metrics: GuardrailsMetrics, limits: Limits | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.p, self.m, self.limits, self.clock = ports, metrics, limits or Limits(), clock

    async def __call__(self, event: Envelope, meta: RecordMeta) -> list[Emit]:
        if isinstance(event, ConsentChanged):
            return await self._consent_event(event)
        if isinstance(event, BusinessEchoReceived):  # a person writing from the WhatsApp Business app
            await handle_echo(self.p.echoes, self.m, event.with_own_trace(), meta,
                              self.limits.human_active_ttl_s, self.clock)
            return []
        if not isinstance(event, MessageReceived):
            raise PermanentError(f"guardrails expects MessageReceived, ConsentChanged or BusinessEchoReceived, "
                                 f"got {event.type}")
        ev = event.with_own_trace()  # the trace is appended to; a retry must start from the original
        started = self.clock()
        msg, conv, tr = ev.payload, ev.conversation, ev.trace

        if not await self.p.dedupe.claim(ev.tenant, msg.message_id, f"{meta.topic}:{meta.partition}:{meta.offset}"):
            tr.step("dedupe:duplicate")
            self.m.duplicates.labels(ev.tenant).inc()
            return await self._end(ev, started, "duplicate")
        tr.step("dedupe:new")
        if msg.identity_move is not None:
            await changes.move_identity(self.p.changes, self.m, ev)
        if msg.message_type == "system":  # WhatsApp speaking, not the customer: recorded, never answered
            return await self._unanswered(ev, started, "system", f"system:{msg.system.type if msg.system else '?'}")
        await self.p.window.touch(conv, msg.timestamp)
        tr.step("window:touched")

        tenant = self.p.tenants.get(ev.tenant)
        if tenant is None:
            tr.step("tenant:unknown")
            self.m.unknown_tenant.inc()
            return await self._end(ev, started, "unknown_tenant")
        tr.attrs["tenant_name"] = tenant.name
        # Every message is a customer turn (idempotent by its id), under the conversation key's user: the model's
        # context, the operator's view and a privacy export read the whole conversation, not only the business's
        # side of it. An edit revises the turn it edits and a revoke deletes it (`changes.py`) instead.
        if msg.message_type not in ("edit", "revoke") or msg.original_message_id is None:
            await self.p.store.append_turn(Turn(ev.tenant, parse_conversation_key(conv).user, msg.timestamp,
                                                "customer", _said(msg) or f"[{msg.message_type}]",
                                                (msg.message_id,)))
            tr.step("turn:stored")

        if msg.message_type == "revoke":
            await changes.revoke(self.p.changes, self.m, ev)
            return await self._unanswered(ev, started, "revoke", "revoke:recorded", outcome="revoked")
        if msg.message_type == "edit" and not await changes.edit(self.p.changes, self.m, ev):
            return await self._unanswered(ev, started, "edit_recorded", "edit:recorded")

        if msg.channel == "whatsapp" and (consented := await self._consent(ev, tenant, started)) is not None:
            return consented

        if await self.p.shadow.is_active(conv):
            return await self._shadow(ev, started)
        tr.step("shadow:off")

        if not await self.p.flood.admit(conv, msg.message_id, started.timestamp()):
            return await self._flood(ev, tenant, started)
        tr.step("flood:ok")

        # An edit not answered yet is decided as the text it now has.
        d = decide(msg.model_copy(update={"message_type": "text"}) if msg.message_type == "edit" else msg, tenant,
                   started)
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
            await self.p.pending.push(conv, msg.message_id, _said(msg) or "", msg.timestamp.timestamp())
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
                channel=msg.channel, message_id=msg.message_id, to=msg.sender, text=_said(msg) or "",
                message_type=msg.message_type, intent=d.intent, language="es",
                not_before=now + timedelta(seconds=self.limits.coalesce_window_s), flow=msg.flow,
                replaces=msg.original_message_id if msg.message_type == "edit" else None,
                reply_id=msg.reply_id if msg.message_type in ("interactive", "button") else None,
                order=msg.order, referred_product=_referred(msg)))))
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
            text=text, in_reply_to=msg.message_id, origin=STAGE, route=route, covers=[msg.message_id])
        return Emit(topics.OUTBOUND, caused_by(ReplyRequested, ev, STAGE, payload, index))

    def _handoff(self, ev: MessageReceived, reason: str) -> Emit:
        msg = ev.payload
        payload = HandoffRequestedPayload(
            channel=msg.channel, message_id=msg.message_id, to=msg.sender, reason=reason,
            text=_said(msg) or f"[{msg.message_type}]", requested_by=STAGE, ttl_s=self.limits.human_active_ttl_s)
        return Emit(topics.HANDOFF, caused_by(HandoffRequested, ev, STAGE, payload))

    async def _consent(self, ev: MessageReceived, tenant: Tenant, started: datetime) -> list[Emit] | None:
        """An opt-out or opt-in keyword: recorded and confirmed once, before anyone else sees the message. None
        when the message asks for no change (or for the state the customer is in already, for an opt-in)."""
        msg, tr = ev.payload, ev.trace
        # What the customer wrote or chose (a button's title), never a Flow's fields or a caption's media.
        worded = msg.message_type in ("text", "edit", "button", "interactive") and msg.flow is None
        m = match_consent(msg.text, tenant.consent) if worded and msg.text else None
        if m is None:
            return None
        user = parse_conversation_key(ev.conversation).user  # the customer's one identity, as the sender reads it
        current = await self.p.consent.latest(ev.tenant, user)
        state = current.status if current else "opted_in"
        retried = current is not None and current.message_id == msg.message_id  # recorded, not yet confirmed
        if state == m.status and not retried:
            if m.status == "opted_in":
                return None  # "alta" from a customer who never left: an ordinary message
            tr.step("consent:already_opted_out")
            return await self._end(ev, started, "consent_unchanged")
        await self.p.consent.record(ConsentChange(
            ev.tenant, user, tr.received_at or msg.timestamp, m.status, "keyword", "customer",
            detail=m.keyword, message_id=msg.message_id))
        self.m.consent.labels(ev.tenant, m.status, "keyword").inc()
        tr.step(f"consent:{m.status}:{m.keyword}")
        tr.route, tr.message_type, tr.intent = "consent", "CONSENT", m.status
        tr.timed(STAGE, started, self.clock())
        wording = tenant.consent.opted_out if m.status == "opted_out" else tenant.consent.opted_in
        return [self._reply(ev, wording, "consent")]  # a reply to this very message: within the window

    async def _consent_event(self, ev: ConsentChanged) -> list[Emit]:
        """Meta's `user_preferences`: recorded (idempotently), never answered: the customer chose in WhatsApp
        itself, and a message to confirm a stop would be a business-initiated message."""
        p = ev.payload
        await self.p.consent.record(ConsentChange(
            ev.tenant, parse_conversation_key(ev.conversation).user, ev.trace.received_at or p.timestamp, p.status,
            p.source, "customer",
            detail=p.category, message_id=ev.correlation_id))
        self.m.consent.labels(ev.tenant, p.status, p.source).inc()
        log.info("consent of a customer of %s: %s (%s)", ev.tenant, p.status, p.source)
        return []

    async def _shadow(self, ev: MessageReceived, started: datetime) -> list[Emit]:
        """A person has the conversation: the bot stays silent (the message is already a customer turn, and the
        notifier, which reads wa.inbound.v1 too, relays it to the tenant's people)."""
        ev.trace.step("shadow:human_active")
        self.m.shadow.labels(ev.tenant).inc()
        return await self._end(ev, started, "shadow")

    async def _unanswered(self, ev: MessageReceived, started: datetime, route: str, step: str,
                          outcome: str | None = None) -> list[Emit]:
        """Recorded, never answered: a system message, a revoke, an edit of an answered message."""
        ev.trace.step(step)
        ev.trace.route = route
        self.m.messages.labels(ev.tenant, ev.payload.message_type, "otro", route, ev.payload.channel).inc()
        return await self._end(ev, started, outcome or route)

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


def _referred(msg: MessageReceivedPayload) -> str | None:
    """The product message the customer answered or asked about ("quiero este"): its product_retailer_id."""
    product = msg.context.referred_product if msg.context is not None else None
    rid = (product or {}).get("product_retailer_id")
    return str(rid) if rid else None


def _said(msg: MessageReceivedPayload) -> str | None:
    """The message as text: a media message's transcript or caption with what the media stage read in it."""
    return said(msg) if is_media(msg) else msg.text
