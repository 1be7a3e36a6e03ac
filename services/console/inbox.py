"""The console's live feed: what each event on the topics changes in the inbox (`change_of`, pure), and the worker
handler (`Inbox`) that applies it to the Redis inbox (`RedisInbox`) and announces it to the open pages.

The console reads wa.inbound.v1 (customer messages), wa.handoff.v1 (a customer waiting for a person) and
wa.delivery.v1 (what the bot or a person sent: the sender stored the turn before it reported the send, so the
text is read back from the store) with its own consumer group, and produces nothing. From
wa.inbound.understood.v1 it keeps only the media stage's understanding of media messages (`services/console/media.py`),
which the conversation view shows inline; the messages themselves were counted from wa.inbound.v1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from schemas.envelope import Envelope, parse_conversation_key
from schemas.events import BusinessEchoReceived, HandoffRequested, MessageReceived, ReplyFailed, ReplySent
from schemas.topics import INBOUND_UNDERSTOOD
from services.console.media import MediaCard, card_of
from wapipe.runtime.types import Emit, RecordMeta
from wapipe.store.port import ConversationStore

log = logging.getLogger(__name__)
Kind = Literal["message", "echo", "handoff", "reply", "failed", "media"]
BUSINESS_APP = "WhatsApp Business app"  # the actor guardrails records for an echo (`operator:...`)
UNANSWERED_TYPES = ("system", "edit", "revoke")  # recorded elsewhere, never a new line in the inbox


@dataclass(frozen=True)
class InboxChange:
    tenant: str
    conversation: str
    kind: Kind
    at: float  # epoch seconds of the event
    role: str | None = None  # customer, assistant, human
    text: str | None = None
    profile_name: str | None = None
    message_id: str | None = None
    who: str | None = None  # a human line's author (an echo: the WhatsApp Business app)


def change_of(event: Envelope) -> InboxChange | None:
    """What `event` changes in the inbox, or None (statuses, internal notifications, edits...)."""
    at = event.occurred_at.timestamp()
    if isinstance(event, MessageReceived):
        p = event.payload
        if p.message_type in UNANSWERED_TYPES:
            return None
        return InboxChange(event.tenant, event.conversation, "message", p.timestamp.timestamp(), "customer",
                           p.text or f"[{p.message_type}]", p.profile_name, p.message_id)
    if isinstance(event, BusinessEchoReceived):  # a person wrote from the WhatsApp Business app: a human line
        e = event.payload
        if e.message_type in UNANSWERED_TYPES:
            return None
        return InboxChange(event.tenant, event.conversation, "echo", e.timestamp.timestamp(), "human",
                           e.text or f"[{e.message_type}]", message_id=e.message_id, who=BUSINESS_APP)
    if isinstance(event, HandoffRequested):
        return InboxChange(event.tenant, event.conversation, "handoff", at, text=event.payload.reason)
    if isinstance(event, ReplySent) and event.payload.audience == "customer":
        return InboxChange(event.tenant, event.conversation, "reply", at)
    if isinstance(event, ReplyFailed) and event.payload.audience == "customer":
        return InboxChange(event.tenant, event.conversation, "failed", at,
                           text=event.payload.error_title or event.payload.reason or "failed")
    return None


class InboxPort(Protocol):
    """The inbox index the pages read, and the live announcement (Redis in production)."""

    async def apply(self, change: InboxChange) -> None:
        """Index the change and announce it to the open pages."""

    async def announce(self, change: InboxChange) -> None: ...


class MediaCardsPort(Protocol):
    async def put(self, conversation: str, card: MediaCard) -> None: ...


@dataclass
class Inbox:
    inbox: InboxPort
    store: ConversationStore
    cards: MediaCardsPort | None = None

    async def handle(self, event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        if meta.topic.endswith(INBOUND_UNDERSTOOD):
            card = card_of(event)
            if card is not None and self.cards is not None:
                await self.cards.put(event.conversation, card)
                await self.inbox.announce(InboxChange(event.tenant, event.conversation, "media",
                                                      event.occurred_at.timestamp(), message_id=card.message_id))
            return []
        change = change_of(event)
        if change is None:
            return []
        if change.kind == "reply":  # ReplySent carries no text: the sender stored the turn before reporting it
            key = parse_conversation_key(change.conversation)
            turns = await self.store.last_turns(key.phone_number_id, key.user, 1)
            if turns and turns[-1].role in ("assistant", "human"):
                last = turns[-1]
                change = InboxChange(change.tenant, change.conversation, "reply", change.at, last.role, last.text)
        await self.inbox.apply(change)
        return []
