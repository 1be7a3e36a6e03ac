"""An echo: a person of the business wrote to the customer from the WhatsApp Business app on the Cloud API number
(coexistence). The bot must not talk over them, so the echo is what an operator's reply is: a `human` turn in the
store, the conversation HUMAN_ACTIVE for the full TTL under the same shadow key the operator API uses (actor
`operator:WhatsApp Business app`), and the operator's audit entries (`taken` when the bot had it, `reply`).
Released as usual: the operator API or the console, or the TTL.

An echo of a message wapipe itself sent (its wamid is one the sender recorded, `wapipe.state.sent`, or one a
stored bot turn carries) is no person writing: recorded, and it changes nothing. Decided over ports
like the rest of the handler; redeliveries are dropped by the same dedupe as customer messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from schemas.envelope import parse_conversation_key
from schemas.events import BusinessEchoReceived
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.ports import Dedupe, Shadow, Tenants, TraceSink
from wapipe.logging import mask_phone
from wapipe.runtime.types import RecordMeta
from wapipe.store import HandoffEntry, TraceRecord, Turn

log = logging.getLogger(__name__)
STAGE = "guardrails"
BUSINESS_APP = "WhatsApp Business app"
ACTOR = f"operator:{BUSINESS_APP}"
CREDENTIAL = "smb_message_echoes"  # what proved the actor, as the operator API names a token
OWN_TURNS_SEEN = 50  # how far back the store is searched for a turn carrying the echo's wamid


class SentLookup(Protocol):
    """The wamids the sender recorded as sent (`wapipe.state.sent.SentMessages`)."""

    async def is_ours(self, wamid: str) -> bool: ...


@dataclass(frozen=True)
class EchoPorts:
    dedupe: Dedupe
    shadow: Shadow
    tenants: Tenants
    store: TraceSink
    sent: SentLookup | None


async def handle_echo(p: EchoPorts, m: GuardrailsMetrics, ev: BusinessEchoReceived, meta: RecordMeta, ttl_s: int,
                      clock: Callable[[], datetime]) -> None:
    """Decide one echo; nothing is emitted (the person already said it), the journey ends here with its trace."""
    started = clock()
    msg, conv, tr = ev.payload, ev.conversation, ev.trace
    user = parse_conversation_key(conv).user

    async def end(outcome: str) -> None:
        m.echoes.labels(ev.tenant, outcome).inc()
        tr.route = "echo"
        tr.timed(STAGE, started, clock())
        await p.store.write_trace(TraceRecord.from_event(ev, outcome, ts=clock()))

    if not await p.dedupe.claim(ev.tenant, msg.message_id, f"{meta.topic}:{meta.partition}:{meta.offset}"):
        tr.step("dedupe:duplicate")
        m.duplicates.labels(ev.tenant).inc()
        return await end("duplicate")
    tr.step("dedupe:new")
    if await _ours(p, ev.tenant, user, msg.message_id):
        tr.step("echo:ours")  # our own message reflected back: the bot keeps the conversation
        return await end("echo_ours")
    if p.tenants.get(ev.tenant) is None:
        tr.step("tenant:unknown")
        m.unknown_tenant.inc()
        return await end("unknown_tenant")

    text = msg.text or f"[{msg.message_type}]"
    if msg.message_type in ("edit", "revoke") and msg.original_message_id is not None:
        # The person edited or deleted what they sent from the app: their turn reads back revised, as the
        # customer's do (the store applies revisions to customer and human turns, never the bot's).
        new = msg.text if msg.message_type == "edit" else None
        await p.store.revise_turn(ev.tenant, user, msg.original_message_id, new, msg.timestamp)
        tr.step(f"turn:revised:human:{msg.message_type}")
    else:
        await p.store.append_turn(Turn(ev.tenant, user, msg.timestamp, "human", text, (msg.message_id,)))
        tr.step("turn:stored:human")
    was_active = await p.shadow.is_active(conv)
    # The audit first, at the echo's own time: a record retried before the take-over below writes the same
    # (idempotent) rows again, and one retried after it finds the conversation taken and its `taken` row written.
    if not was_active:
        await p.store.append_handoff(HandoffEntry(ev.tenant, user, msg.timestamp, "taken", ACTOR, CREDENTIAL))
    await p.store.append_handoff(HandoffEntry(ev.tenant, user, msg.timestamp, "reply", ACTOR, CREDENTIAL,
                                              text[:500]))
    await p.shadow.take_over(conv, ACTOR, ttl_s)
    tr.step("shadow:extended" if was_active else "shadow:taken_over")
    tr.attrs["operator"] = BUSINESS_APP
    log.info("a person wrote to %s from the WhatsApp Business app: the bot stays silent", mask_phone(user))
    return await end("echo")


async def _ours(p: EchoPorts, tenant: str, user: str, wamid: str) -> bool:
    if p.sent is not None and await p.sent.is_ours(wamid):
        return True
    # Sent before the sender recorded wamids, or that record expired: the bot's stored turn says. Not `human`
    # turns: this very echo writes one, and a retry of its record must decide the same way.
    turns = await p.store.last_turns(tenant, user, OWN_TURNS_SEEN)
    return any(t.role == "assistant" and wamid in t.message_ids for t in turns)
