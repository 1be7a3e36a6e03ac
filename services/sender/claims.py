"""Exactly-once sends on top of at-least-once delivery: claim (lease) -> send -> mark sent, in Redis.

Shared by every sender replica. A claim is a lease: if the holder crashes mid-send, the lease expires and the
id can be claimed again. Once marked sent (kept for days) the id is never sent again.

A holder that died *during* the HTTP call leaves the send in doubt: Meta may have accepted it. Meta's status
webhooks carry our id back (`biz_opaque_callback_data`), and `confirm` marks the id sent from them, so the next
holder waits a grace period for that confirmation before sending again.
"""

from __future__ import annotations

from collections import OrderedDict

import redis.asyncio as aioredis

from services.sender.ports import Claim
from wapipe.redis import KEY_PREFIX
from wapipe.state.sent import sent_wamid_key

# KEYS: the claim key, the doubt key. ARGV: token, lease ms.
# Returns "sent:<wamid>", "busy", or "claimed" / "doubt" (claimed, but an earlier holder died mid-call).
_CLAIM = """
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 5) == 'sent:' then return v end
  if v ~= ARGV[1] then return 'busy' end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'doubt' end
return 'claimed'
"""


class SendClaims:
    """ClaimsPort over Redis.

    Each reply brings three statuses (sent, delivered, read) that would each write the same "sent" marks; the
    sends this process marked or confirmed lately (`recent`, the last `remembered`) are not written again."""

    def __init__(self, redis: aioredis.Redis, *, lease_s: int = 60, sent_ttl_s: int = 7 * 24 * 3600,
                 remembered: int = 10_000) -> None:
        self.redis = redis
        self.lease_ms = lease_s * 1000
        self.sent_ttl_s = sent_ttl_s
        self.recent: OrderedDict[str, str] = OrderedDict()  # send id -> wamid, oldest first
        self.remembered = remembered

    def _remember(self, send_id: str, wamid: str) -> None:
        self.recent[send_id] = wamid
        self.recent.move_to_end(send_id)
        while len(self.recent) > self.remembered:
            self.recent.popitem(last=False)

    @staticmethod
    def key(send_id: str) -> str:
        return f"{KEY_PREFIX}send:{send_id}"

    async def claim(self, send_id: str, token: str) -> tuple[Claim, str | None]:
        """-> ("claimed", None) | ("doubt", None) claimed, but an earlier attempt may have reached Meta |
        ("sent", wamid) | ("busy", None) when another live holder has it."""
        raw = await self.redis.eval(_CLAIM, 2, self.key(send_id), self.doubt_key(send_id), token, self.lease_ms)
        v = raw.decode() if isinstance(raw, bytes) else str(raw)
        if v.startswith("sent:"):
            return "sent", v[5:]
        if v == "doubt":
            return "doubt", None
        return ("claimed", None) if v == "claimed" else ("busy", None)

    @staticmethod
    def doubt_key(send_id: str) -> str:
        return f"{KEY_PREFIX}sendtry:{send_id}"

    async def begin(self, send_id: str) -> None:
        """About to call the Graph API: from now until mark_sent/release the outcome is in doubt."""
        await self.redis.set(self.doubt_key(send_id), "1", ex=self.sent_ttl_s)

    async def sent_wamid(self, send_id: str) -> str | None:
        raw = await self.redis.get(self.key(send_id))
        v = raw.decode() if isinstance(raw, bytes) else raw
        return v[5:] if v and v.startswith("sent:") else None

    async def mark_sent(self, send_id: str, wamid: str) -> None:
        """Also records the wamid as ours (`wapipe.state.sent`): an echo of it must not look like a person."""
        pipe = self.redis.pipeline()
        pipe.set(self.key(send_id), f"sent:{wamid}", ex=self.sent_ttl_s)
        pipe.set(sent_wamid_key(wamid), send_id, ex=self.sent_ttl_s)
        pipe.delete(self.doubt_key(send_id))
        await pipe.execute()
        self._remember(send_id, wamid)

    async def confirm(self, send_id: str, wamid: str) -> None:
        """Meta reported a status for this id: it was sent, whoever held (or lost) the claim."""
        if self.recent.get(send_id) == wamid:
            return
        pipe = self.redis.pipeline()
        pipe.set(self.key(send_id), f"sent:{wamid}", ex=self.sent_ttl_s)
        pipe.set(sent_wamid_key(wamid), send_id, ex=self.sent_ttl_s)
        await pipe.execute()
        self._remember(send_id, wamid)

    async def release(self, send_id: str, token: str) -> None:
        """Give the claim back (a permanent failure) so a replay from the DLQ can try again."""
        await self.redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[2]) "
            "return redis.call('DEL', KEYS[1]) end return 0",
            2, self.key(send_id), self.doubt_key(send_id), token)
