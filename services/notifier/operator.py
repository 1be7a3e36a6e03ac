"""What a person does through the operator API: list handed-off conversations, take one over, write to the
customer, give it back to the bot. Replies go to `wa.outbound.v1` through the producer (confirmed by the broker);
the sender sends them and stores them as `human` turns (origin `operator:<name>`).

Every action is authorised against the tenant of the conversation it touches (`wapipe.access.Scope`), only a
conversation the customer started can be taken over, and nothing returned carries a full number: conversations
are named by their `ref` and a masked customer."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from schemas.envelope import derive_id, is_api_user, parse_conversation_key
from schemas.events import Recipient, ReplyRequested, ReplyRequestedPayload
from schemas.topics import OUTBOUND
from services.notifier import texts
from services.notifier.metrics import NotifierMetrics
from services.notifier.state import RedisNotifierState
from wapipe.access import Scope
from wapipe.logging import mask_phone
from wapipe.runtime.types import Emit
from wapipe.state.shadow import HUMAN_ACTIVE_TTL_S
from wapipe.store.port import ConversationStore, HandoffEntry
from wapipe.tenants import Tenant

_CONVERSATION = re.compile(r"^\d{5,20}:[A-Za-z0-9._\-]{3,128}$")
_REF = re.compile(r"^[0-9a-f]{8}$")


class Publisher(Protocol):
    async def publish(self, emit: Emit) -> tuple[int, int]: ...


class TenantLookup(Protocol):
    def get(self, phone_number_id: str) -> Tenant | None: ...


class CustomerWindow(Protocol):
    """The 24 h service window guardrails opens on each customer message (`wapipe.state.window`)."""

    async def is_open(self, conversation: str, now: datetime | None = None) -> bool: ...


class OperatorError(Exception):
    status = 400


class NotFound(OperatorError):
    status = 404


class Forbidden(OperatorError):
    status = 403


class NotHandedOff(OperatorError):
    status = 409


# How far back the store is searched for a message from the customer (newest turns first).
CUSTOMER_TURNS_SEEN = 50


def recipient_of(user: str) -> Recipient:
    return Recipient(wa_id=user) if user.isdigit() else Recipient(user_id=user)


@dataclass
class Operators:
    state: RedisNotifierState
    store: ConversationStore
    tenants: TenantLookup
    publisher: Publisher
    metrics: NotifierMetrics
    window: CustomerWindow
    ttl_s: int = HUMAN_ACTIVE_TTL_S

    async def resolve(self, handle: str, who: Scope) -> tuple[str, Tenant]:
        """A conversation key (`phone_number_id:user`) or a notification's short ref -> (conversation, tenant),
        refused unless `who` may act on that tenant."""
        if _REF.match(handle):
            conv = await self.state.resolve_ref(handle)
            # A ref of another tenant's conversation answers like an unknown ref: it confirms nothing.
            if conv is None or not who.allows(parse_conversation_key(conv).phone_number_id):
                raise NotFound(f"no handed-off conversation with ref {handle}")
        elif _CONVERSATION.match(handle):
            conv = handle
        else:
            raise OperatorError("conversation must be '<phone_number_id>:<user>' or an 8-character ref")
        phone_number_id = parse_conversation_key(conv).phone_number_id
        if not who.allows(phone_number_id):
            raise Forbidden(f"operator {who.name!r} may not act on tenant {phone_number_id} "
                            f"(allowed: {who.describe()})")
        tenant = self.tenants.get(phone_number_id)
        if tenant is None:
            raise NotFound(f"unknown tenant {phone_number_id}")
        return conv, tenant

    async def list(self, who: Scope, tenant: str | None = None) -> list[dict[str, Any]]:
        """The caller's tenants' HUMAN_ACTIVE conversations, by ref and masked number (never the full key)."""
        if tenant is not None and not who.allows(tenant):
            raise Forbidden(f"operator {who.name!r} may not list tenant {tenant} (allowed: {who.describe()})")
        active = [a for a in await self.state.active(tenant)
                  if who.allows(parse_conversation_key(a.conversation).phone_number_id)]
        keys = [parse_conversation_key(a.conversation) for a in active]
        for t, n in Counter(k.phone_number_id for k in keys).items():
            self.metrics.active.labels(t).set(n)
        for a in active:  # every listed ref can be acted on, even before the notification remembered it
            await self.state.remember_ref(texts.ref_of(a.conversation), a.conversation, max(1, a.ttl_left_s))
        return [{"ref": texts.ref_of(a.conversation), "tenant": k.phone_number_id, "customer": mask_phone(k.user),
                 "reason": a.reason, "actor": a.actor,
                 "since": datetime.fromtimestamp(a.since, UTC).isoformat(timespec="seconds"),
                 "ttl_left_s": a.ttl_left_s} for a, k in zip(active, keys, strict=True)]

    async def take(self, handle: str, who: Scope) -> dict[str, Any]:
        conv, tenant = await self.resolve(handle, who)
        if not await self.state.shadow.is_active(conv) and not await self._customer_wrote(conv):
            # Otherwise a take-over and a reply (a template outside the window) could message any number.
            raise NotFound(f"{texts.ref_of(conv)}: this customer has not written to the business (no open 24 h "
                           "window, no stored message); only a conversation the customer started can be taken over")
        actor = f"operator:{who.name}"
        await self.state.shadow.take_over(conv, actor, self.ttl_s)
        await self.state.remember_ref(texts.ref_of(conv), conv, self.ttl_s)
        await self._audit(tenant, conv, "taken", who)
        return {"ref": texts.ref_of(conv), "tenant": tenant.phone_number_id,
                "customer": mask_phone(parse_conversation_key(conv).user), "state": "HUMAN_ACTIVE",
                "actor": actor, "ttl_left_s": self.ttl_s}

    async def reply(self, handle: str, who: Scope, text: str, idempotency_key: str | None) -> dict[str, Any]:
        conv, tenant = await self.resolve(handle, who)
        if not await self.state.shadow.is_active(conv):
            raise NotHandedOff(f"{texts.ref_of(conv)} is not handed off: take it over first")
        reply_id = await self._send(tenant, conv, who.name, text, idempotency_key)
        await self._audit(tenant, conv, "reply", who, text[:500])
        return {"ref": texts.ref_of(conv), "reply_id": reply_id, "status": "queued"}

    async def release(self, handle: str, who: Scope, message: str | None) -> dict[str, Any]:
        conv, tenant = await self.resolve(handle, who)
        if not await self.state.release_all(conv):
            raise NotHandedOff(f"{texts.ref_of(conv)} is not handed off")
        reply_id = await self._send(tenant, conv, who.name, message, None) if message else None
        await self._audit(tenant, conv, "released", who, message)
        return {"ref": texts.ref_of(conv), "state": "BOT", "reply_id": reply_id}

    async def _customer_wrote(self, conv: str) -> bool:
        """The customer wrote to this business: an open 24 h window, or a message of theirs in the store."""
        if await self.window.is_open(conv):
            return True
        key = parse_conversation_key(conv)
        turns = await self.store.last_turns(key.phone_number_id, key.user, CUSTOMER_TURNS_SEEN)
        return any(t.role == "customer" for t in turns)

    async def _send(self, tenant: Tenant, conv: str, operator: str, text: str, key: str | None) -> str:
        # Without an Idempotency-Key every call is a new message; with one, a retried call asks for the same send.
        correlation = "op-" + (derive_id(conv, "operator", key)[:24] if key else uuid.uuid4().hex[:24])
        reply_id = derive_id(correlation, "notifier", "operator")
        user = parse_conversation_key(conv).user
        event = ReplyRequested(
            event_id=derive_id(correlation, "notifier", "ReplyRequested"), tenant=tenant.phone_number_id,
            conversation=conv, correlation_id=correlation,
            payload=ReplyRequestedPayload(reply_id=reply_id, to=recipient_of(user), kind="text",
                                          text=text, origin=f"operator:{operator}", route="operator",
                                          channel="api" if is_api_user(user) else "whatsapp"))
        event.trace.step("notifier:operator_reply")
        await self.publisher.publish(Emit(OUTBOUND, event))
        return reply_id

    async def _audit(self, tenant: Tenant, conv: str, action: str, who: Scope, detail: str | None = None) -> None:
        """`actor` is the operator's name, `reason` the credential that proved it (`admin token`, `token <id>`)."""
        self.metrics.operator_actions.labels(tenant.phone_number_id, action).inc()
        await self.store.append_handoff(HandoffEntry(tenant.phone_number_id, parse_conversation_key(conv).user,
                                                     datetime.fromtimestamp(time.time(), UTC), action,
                                                     f"operator:{who.name}", who.credential, detail))
