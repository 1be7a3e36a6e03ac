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


class RedisInbox:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def apply(self, change: InboxChange) -> None:
        """Index the change and announce it to the open pages: two round trips, one pipeline each."""
        conv = change.conversation
        ref = ref_of(conv)
        key = f"{P}conv:{conv}"
        fields: dict[Any, Any] = {"ref": ref}
        if change.profile_name:
            fields["profile_name"] = change.profile_name
        if change.text is not None and change.kind != "handoff":
            fields.update(last_text=change.text[:500], last_role=change.role or change.kind, last_at=change.at)
        if change.kind == "message" and change.text is not None:
            fields["last_customer"] = change.text[:500]
        line = change.kind in ("message", "echo") and bool(change.message_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, TTL_S)
        pipe.zadd(INDEX, {conv: change.at}, gt=True)
        pipe.zadd(tenant_index(change.tenant), {conv: change.at}, gt=True)
        pipe.set(f"{P}ref:{ref}", conv, ex=TTL_S)
        if line:  # a customer's message or an echo: a line of `recent`, counted once whatever the redelivery
            pipe.set(f"{P}seen:{change.tenant}:{change.message_id}", "1", ex=TTL_S, nx=True)
        done = await pipe.execute()
        first = line and bool(done[-1])
        pipe = self.redis.pipeline(transaction=False)
        if first:
            doc = json.dumps({"id": change.message_id, "text": change.text, "at": change.at,
                              "role": change.role or "customer", "who": change.who or ""})
            if change.kind == "message":  # an echo is the business's own words: nothing unread
                pipe.hincrby(key, "unread", 1)
            pipe.lpush(f"{P}recent:{conv}", doc)
            pipe.ltrim(f"{P}recent:{conv}", 0, RECENT - 1)
            pipe.expire(f"{P}recent:{conv}", TTL_S)
        pipe.publish(live_channel(change.tenant), _live(change))
        await pipe.execute()

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
