"""The ports the guardrails handler decides with; Redis adapters in `adapters.py`, fakes in the unit tests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from wapipe.store import ConsentChange, ConsentStore, ConversationStore, HandoffEntry, TraceRecord, Turn
from wapipe.tenants import Tenant


class Dedupe(Protocol):
    async def claim(self, tenant: str, message_id: str, owner: str) -> bool:
        """True the first time a message id is seen, and again for the same `owner` (a retry of the same
        record must not be mistaken for Meta redelivering the message)."""
        ...


class Window(Protocol):
    async def touch(self, conversation: str, at: datetime) -> None:
        """Record the customer's last inbound time (the 24 h service window)."""
        ...


class Shadow(Protocol):
    async def is_active(self, conversation: str) -> bool: ...

    async def activate(self, conversation: str, reason: str, actor: str, ttl_s: int = ...) -> bool: ...

    async def take_over(self, conversation: str, actor: str, ttl_s: int = ...) -> None:
        """A person has the conversation (an echo from the WhatsApp Business app): always the full TTL."""
        ...


class Flood(Protocol):
    async def admit(self, conversation: str, message_id: str, now: float) -> bool:
        """True while the conversation is under its limit in the sliding window (a retry is admitted again)."""
        ...

    async def notice_once(self, conversation: str, message_id: str) -> bool:
        """True for the one message per window that gets the polite 'slow down' notice."""
        ...


class Pending(Protocol):
    async def push(self, conversation: str, message_id: str, text: str, ts: float) -> None:
        """Queue a message for the AI stage's burst coalescing (`wapipe:pending:{conversation}`)."""
        ...

    async def cancel(self, conversation: str, message_id: str) -> int:
        """The customer deleted or edited a queued message: it is not to be answered."""
        ...


class Answers(Protocol):
    """Whether a customer message was answered (`wapipe.state.answers`)."""

    async def cancel(self, tenant: str, message_id: str, reason: Literal["revoked", "edited"]
                     ) -> Literal["cancelled", "answered"]:
        """Cancel what answers the message, unless a reply to it already began to go out."""
        ...

    async def record_edit(self, tenant: str, original: str, edit: str) -> None: ...

    async def edits_of(self, tenant: str, original: str) -> list[str]: ...


class Moves(Protocol):
    async def move(self, source: str, target: str) -> int:
        """Move a conversation's state to the customer's new key (`wapipe.state.moves`)."""
        ...


class Tenants(Protocol):
    def get(self, phone_number_id: str) -> Tenant | None: ...


class TraceSink(Protocol):
    """The part of the ConversationStore guardrails writes to."""

    async def write_trace(self, trace: TraceRecord) -> None: ...

    async def append_turn(self, turn: Turn) -> None: ...

    async def revise_turn(self, tenant: str, user: str, message_id: str, text: str | None, at: datetime) -> None:
        ...

    async def last_turns(self, tenant: str, user: str, n: int = ...) -> list[Turn]: ...

    async def append_handoff(self, entry: HandoffEntry) -> None: ...


class ConsentBook(Protocol):
    """The customer's consent (`wapipe.state.consent.Consent`: the store, cached in Redis for the sender)."""

    async def latest(self, tenant: str, user: str) -> ConsentChange | None: ...

    async def record(self, change: ConsentChange) -> None: ...


class GuardrailsStore(ConversationStore, ConsentStore, Protocol):
    """The whole store guardrails is wired with: traces and turns (`TraceSink`), conversation moves, and consent
    behind `ConsentBook`."""
