"""Whether a customer message has been answered, or its answer is cancelled: guardrails (edits and revokes), the
AI stage and the sender agree through this.

Keys (under `wapipe:`): `answer:{tenant}:{message_id}` -> `answered` | `cancelled:<reason>` (7 days: Meta allows
an edit within 15 minutes and a revoke within 2 days); `answer:{tenant}:{message_id}:edits` -> set of the edits'
message ids, so a revoke of the original cancels what answers its edits too.

"Answered" means a reply to it began to go out: the sender's `begin` marks it before the first part is claimed,
in the same atomic step that checks for a cancel. So of an edit or revoke (`cancel`) and a reply (`begin`) racing
for one message, exactly one wins: either the reply goes out and the edit is only recorded, or the reply is
cancelled and never sent.
"""

from __future__ import annotations

from typing import Literal

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

TTL_S = 7 * 24 * 3600
Reason = Literal["revoked", "edited"]
_CANCELLED = "cancelled:"

# KEYS[1] the message's key. ARGV: reason, ttl. A first cancel's reason stays.
_CANCEL = """
local v = redis.call('GET', KEYS[1])
if v == 'answered' then return v end
if not v then
  redis.call('SET', KEYS[1], 'cancelled:' .. ARGV[1], 'EX', ARGV[2])
  return 'cancelled:' .. ARGV[1]
end
return v
"""

# KEYS: the keys of every message a reply answers. ARGV: ttl. Returns a cancel reason when each of them is
# cancelled (the reply must not go out), else '' after marking the others answered.
_BEGIN = """
local reason, live = nil, 0
for _, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and string.sub(v, 1, 10) == 'cancelled:' then reason = string.sub(v, 11) else live = live + 1 end
end
if live == 0 and reason then return reason end
for _, k in ipairs(KEYS) do
  if not redis.call('GET', k) then redis.call('SET', k, 'answered', 'EX', ARGV[1]) end
end
return ''
"""


def answer_key(tenant: str, message_id: str) -> str:
    return f"{KEY_PREFIX}answer:{tenant}:{message_id}"


class Answers:
    def __init__(self, redis: aioredis.Redis, ttl_s: int = TTL_S) -> None:
        self.redis, self.ttl_s = redis, ttl_s

    async def cancel(self, tenant: str, message_id: str, reason: Reason) -> Literal["cancelled", "answered"]:
        """Cancel whatever answers `message_id`, unless a reply to it already began to go out (`answered`)."""
        raw = await self.redis.eval(_CANCEL, 1, answer_key(tenant, message_id), reason, self.ttl_s)
        value = raw.decode() if isinstance(raw, bytes) else str(raw)
        return "answered" if value == "answered" else "cancelled"

    async def cancelled(self, tenant: str, message_id: str) -> str | None:
        """The cancel reason of `message_id`, or None."""
        raw = await self.redis.get(answer_key(tenant, message_id))
        value = raw.decode() if isinstance(raw, bytes) else raw
        return value[len(_CANCELLED):] if value and value.startswith(_CANCELLED) else None

    async def begin(self, tenant: str, message_ids: list[str]) -> str | None:
        """Before a reply answering `message_ids` goes out: the cancel reason when every one of them was
        cancelled (do not send), else None, and from now on they count as answered."""
        if not message_ids:
            return None
        raw = await self.redis.eval(_BEGIN, len(message_ids), *(answer_key(tenant, m) for m in message_ids),
                                    self.ttl_s)
        value = raw.decode() if isinstance(raw, bytes) else str(raw or "")
        return value or None

    async def record_edit(self, tenant: str, original: str, edit: str) -> None:
        key = f"{answer_key(tenant, original)}:edits"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(key, edit)
            pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def edits_of(self, tenant: str, original: str) -> list[str]:
        members = await self.redis.smembers(f"{answer_key(tenant, original)}:edits")
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
