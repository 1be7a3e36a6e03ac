"""Internal notes: a line in the conversation's handoff audit (`note`, by `operator:<name>`) that only the team
sees; it never reaches the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.envelope import parse_conversation_key
from wapipe.access import Scope
from wapipe.store.port import ConversationStore, HandoffEntry


@dataclass
class Notes:
    store: ConversationStore

    async def add(self, conversation: str, who: Scope, text: str) -> None:
        key = parse_conversation_key(conversation)
        await self.store.append_handoff(HandoffEntry(key.phone_number_id, key.user, datetime.now(UTC), "note",
                                                     f"operator:{who.name}", who.credential, text.strip()))
