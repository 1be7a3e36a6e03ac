"""The wamids the sender got back from the Graph API: so a webhook about a message can tell one wapipe itself
sent from one a person sent from the WhatsApp Business app on the same number (coexistence echoes).

The sender writes them (`services.sender.claims.SendClaims.mark_sent` / `confirm`, in the same round trip that
marks the send id sent); guardrails reads them (`is_ours`). Key (under `wapipe:`): `sent:wamid:{wamid}` -> the
send id, 7 days (Meta's wamids are unique across numbers, so no tenant is needed to tell them apart).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

SENT_WAMID_TTL_S = 7 * 24 * 3600


def sent_wamid_key(wamid: str) -> str:
    return f"{KEY_PREFIX}sent:wamid:{wamid}"


class SentMessages:
    """Reads what the sender recorded (the write is part of the sender's mark-sent pipeline)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def remember(self, wamid: str, send_id: str, ttl_s: int = SENT_WAMID_TTL_S) -> None:
        await self.redis.set(sent_wamid_key(wamid), send_id, ex=ttl_s)

    async def is_ours(self, wamid: str) -> bool:
        """True when the sender sent a message with this wamid (in the last 7 days)."""
        return bool(await self.redis.exists(sent_wamid_key(wamid)))
