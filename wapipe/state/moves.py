"""Moving a conversation's state to the customer's new key: their identity changed (a `system` message), or two
keys turned out to be one customer. Guardrails runs it (`IdentityMove` on the message) before deciding anything.

What moves: the store's turns, their revisions and the handoff audit (`ConversationStore.move_conversation`), the
24 h window clock (the newer wins), shadow mode (what is left of the handoff), and every `StateMove` given as
`extra` (consent registers one there); the context cache of both keys is invalidated. Every step is idempotent, so
a retried record moves nothing twice. Short-lived state (flood window, burst list) stays behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis

from schemas.envelope import Conversation, parse_conversation_key
from wapipe.logging import mask_phone
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store.context import ContextCache
from wapipe.store.port import ConversationStore

log = logging.getLogger(__name__)


class StateMove(Protocol):
    """One more piece of a conversation's state that follows the customer to their new key."""

    async def move(self, source: Conversation, target: Conversation) -> None: ...


class ConversationMover:
    def __init__(self, redis: aioredis.Redis, store: ConversationStore, extra: Sequence[StateMove] = ()) -> None:
        self.redis, self.store, self.extra = redis, store, tuple(extra)

    async def move(self, source: str, target: str) -> int:
        """Move everything of conversation `source` to `target` (same tenant); returns the store records moved."""
        src, dst = parse_conversation_key(source), parse_conversation_key(target)
        if src.phone_number_id != dst.phone_number_id:
            raise ValueError("a conversation moves within its tenant only")
        if src == dst:
            return 0
        moved = await self.store.move_conversation(src.phone_number_id, src.user, dst.user)
        await ServiceWindow(self.redis).move(source, target)
        shadow = await ShadowMode(self.redis).move(source, target)
        for part in self.extra:
            await part.move(src, dst)
        cache = ContextCache(self.redis, self.store)
        await cache.invalidate(src.phone_number_id, src.user)
        await cache.invalidate(dst.phone_number_id, dst.user)
        log.info("conversation of %s moved to %s (%d records%s)", mask_phone(src.user), mask_phone(dst.user), moved,
                 ", shadow mode" if shadow else "")
        return moved
