"""`RedisInbox`: the inbox index the console's pages read, kept in Redis by the console's worker, and the live
announcements its open pages listen to (Redis pub/sub, so every console replica's pages hear every event).

Keys under `wapipe:console:` (30 days, refreshed on every change; a privacy erasure finds them by the conversation
key, `wapipe/privacy/redis_keys.py`):
  `index`              sorted set: conversation -> epoch of its last activity (every tenant: an admin's list)
  `index:{tenant}`     the same, one tenant's (an agent's list reads only their tenants', however busy the others)
  `conv:{conv}`        hash: profile_name, last_text, last_role, last_at, last_customer, unread
  `recent:{conv}`      list: the customer's last messages and the WhatsApp Business app's echoes as JSON
                       (`id`, `text`, `at`, `role`, `who`; shown until the store has them)
  `ref:{ref}`          the conversation of a short ref (pages never carry a phone number in their URL)
  `seen:{tenant}:{message_id}`  a message counted once as unread, whatever the redelivery
Channel `wapipe:console:live:{tenant}`: JSON `{"ref", "kind"}` per change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from schemas.envelope import derive_id, parse_conversation_key
from services.console.inbox import InboxChange
from wapipe.redis import KEY_PREFIX

P = f"{KEY_PREFIX}console:"
INDEX = f"{P}index"
TTL_S = 30 * 24 * 3600
RECENT = 20
LISTED = 1000


def ref_of(conversation: str) -> str:
    """A short handle that does not reveal the customer's number (the notifier's refs are the same)."""
    return derive_id("handoff-ref", conversation)[:8]


def tenant_index(tenant: str) -> str:
    return f"{INDEX}:{tenant}"


def live_channel(tenant: str) -> str:
    return f"{P}live:{tenant}"


def _s(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


@dataclass(frozen=True)
class Summary:
    conversation: str
    ref: str
    tenant: str
    user: str
    profile_name: str
    last_text: str
    last_role: str
    last_at: float
    last_customer: str
    unread: int


def _live(change: InboxChange) -> str:
    return json.dumps({"ref": ref_of(change.conversation), "kind": change.kind})


# KEYS: conv hash, index, tenant index, ref, seen marker, recent list. ARGV: conversation, at, ttl, n, n field/value
# pairs, unread (1/0), recent line ('' for none), recent length, live channel, live doc.
_APPLY = """
local conv, at, ttl, n = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local fields = {}
for j = 1, 2 * n do fields[j] = ARGV[4 + j] end
local i = 5 + 2 * n
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], 'GT', at, conv)
redis.call('ZADD', KEYS[3], 'GT', at, conv)
redis.call('SET', KEYS[4], conv, 'EX', ttl)
local line = ARGV[i + 1]
if line ~= '' and redis.call('SET', KEYS[5], '1', 'EX', ttl, 'NX') then
  if ARGV[i] == '1' then redis.call('HINCRBY', KEYS[1], 'unread', 1) end
  redis.call('LPUSH', KEYS[6], line)
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[i + 2]) - 1)
  redis.call('EXPIRE', KEYS[6], ttl)
end
redis.call('PUBLISH', ARGV[i + 3], ARGV[i + 4])
"""


class RedisInbox:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._apply = redis.register_script(_APPLY)

    async def apply(self, change: InboxChange) -> None:
        """Index the change and announce it to the open pages: one round trip (`_APPLY`)."""
        conv = change.conversation
        ref = ref_of(conv)
        fields: list[Any] = ["ref", ref]
        if change.profile_name:
            fields += ["profile_name", change.profile_name]
        if change.text is not None and change.kind != "handoff":
            fields += ["last_text", change.text[:500], "last_role", change.role or change.kind, "last_at", change.at]
        if change.kind == "message" and change.text is not None:
            fields += ["last_customer", change.text[:500]]
        line = ""  # a customer's message or an echo: a line of `recent`, counted once whatever the redelivery
        if change.kind in ("message", "echo") and change.message_id:
            line = json.dumps({"id": change.message_id, "text": change.text, "at": change.at,
                               "role": change.role or "customer", "who": change.who or ""})
        seen = f"{P}seen:{change.tenant}:{change.message_id}" if line else f"{P}seen:-"
        await self._apply(
            keys=[f"{P}conv:{conv}", INDEX, tenant_index(change.tenant), f"{P}ref:{ref}", seen, f"{P}recent:{conv}"],
            args=[conv, change.at, TTL_S, len(fields) // 2, *fields,
                  "1" if change.kind == "message" else "0",  # an echo is the business's own words: nothing unread
                  line, RECENT, live_channel(change.tenant), _live(change)])

    async def announce(self, change: InboxChange) -> None:
        await self.redis.publish(live_channel(change.tenant), _live(change))

    async def resolve(self, ref: str) -> str | None:
        raw = await self.redis.get(f"{P}ref:{ref}")
        return _s(raw) if raw is not None else None

    async def remember(self, conversation: str) -> str:
        ref = ref_of(conversation)
        await self.redis.set(f"{P}ref:{ref}", conversation, ex=TTL_S)
        return ref

    async def mark_read(self, conversation: str) -> None:
        await self.redis.hset(f"{P}conv:{conversation}", "unread", 0)

    async def summary(self, conversation: str) -> Summary:
        return (await self.summaries([conversation]))[0]

    async def summaries(self, conversations: list[str]) -> list[Summary]:
        pipe = self.redis.pipeline()
        for conv in conversations:
            pipe.hgetall(f"{P}conv:{conv}")
        out = []
        for conv, raw in zip(conversations, await pipe.execute(), strict=True):
            d = {_s(k): _s(v) for k, v in (raw or {}).items()}
            key = parse_conversation_key(conv)
            out.append(Summary(conv, ref_of(conv), key.phone_number_id, key.user, d.get("profile_name", ""),
                               d.get("last_text", ""), d.get("last_role", ""), float(d.get("last_at", 0) or 0),
                               d.get("last_customer", ""), int(d.get("unread", 0) or 0)))
        return out

    async def recent(self, tenants: frozenset[str] | None = None, limit: int = LISTED) -> list[str]:
        """Conversations by last activity, newest first: of every tenant (`None`), or only of `tenants`, each read
        from its own index, so a quiet shop's conversations are listed whatever the other shops' traffic."""
        if tenants is None:
            return [_s(c) for c in await self.redis.zrevrange(INDEX, 0, limit - 1)]
        pipe = self.redis.pipeline(transaction=False)
        for tenant in sorted(tenants):
            pipe.zrevrange(tenant_index(tenant), 0, limit - 1, withscores=True)
        scored = [(_s(c), float(at)) for rows in await pipe.execute() for c, at in rows]
        return [c for c, _ in sorted(scored, key=lambda r: r[1], reverse=True)[:limit]]

    async def recent_customer(self, conversation: str) -> list[dict[str, Any]]:
        """The customer's last messages (and the Business app's echoes) as the topics carried them, oldest first."""
        raw = await self.redis.lrange(f"{P}recent:{conversation}", 0, RECENT - 1)
        return [json.loads(_s(r)) for r in reversed(raw)]
