"""Redis adapters of the guardrails ports: dedupe and flood window (the shadow flag, the service window and the
pending list for the AI stage are state shared with other services, in `wapipe.state`).

Key formats (all under `wapipe:`):
- `dedupe:{tenant}:{message_id}` -> owner ("topic:partition:offset"), 7 days
- `flood:{conversation}` sorted set of admitted message ids scored by arrival time; `flood:{conversation}:notice`
  -> the message id that got the notice, for one window
"""

from __future__ import annotations

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX
from wapipe.state.claim import claim_once
from wapipe.state.sliding import admit_in_window

DEDUPE_TTL_S = 7 * 24 * 3600


class RedisDedupe:
    """Meta redelivers a message for up to 7 days; the first delivery claims its id."""

    def __init__(self, redis: aioredis.Redis, ttl_s: int = DEDUPE_TTL_S) -> None:
        self.redis, self.ttl_s = redis, ttl_s

    @staticmethod
    def key(tenant: str, message_id: str) -> str:
        return f"{KEY_PREFIX}dedupe:{tenant}:{message_id}"

    async def claim(self, tenant: str, message_id: str, owner: str) -> bool:
        return await claim_once(self.redis, self.key(tenant, message_id), owner, self.ttl_s)


class RedisFlood:
    """At most `limit` messages per conversation in any `window_s` seconds, and one notice per window."""

    def __init__(self, redis: aioredis.Redis, limit: int = 20, window_s: float = 60.0) -> None:
        self.redis, self.limit, self.window_s = redis, limit, window_s

    @staticmethod
    def key(conversation: str) -> str:
        return f"{KEY_PREFIX}flood:{conversation}"

    async def admit(self, conversation: str, message_id: str, now: float) -> bool:
        return await admit_in_window(self.redis, self.key(conversation), message_id, now, self.window_s, self.limit)

    async def notice_once(self, conversation: str, message_id: str) -> bool:
        return await claim_once(self.redis, f"{self.key(conversation)}:notice", message_id, max(1, int(self.window_s)))
