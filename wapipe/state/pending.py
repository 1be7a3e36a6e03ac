"""Messages waiting for the AI stage: guardrails appends each message it routes to the model, the AI stage reads
the burst, answers it once and trims what it answered.

Key (under `wapipe:`): `pending:{conversation}` -> list of JSON `{"message_id", "text", "ts"}` (ts in epoch
seconds), expiring a few minutes after the last push. Only guardrails appends, so the first n entries are
exactly the n the AI stage read. A message the customer deleted or edited is not removed but overwritten in
place by a tombstone (`"cancelled": true`, no text), which keeps that count true; reads skip tombstones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from wapipe.redis import KEY_PREFIX

PENDING_TTL_S = 300

# Push once: a retried record must not queue the same message twice.
_PUSH_ONCE = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
for _, v in ipairs(items) do if v == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) return 0 end end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

# Overwrite the entries of one message id with a tombstone, in place (LSET keeps every position).
_CANCEL = """
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local n = 0
for i, v in ipairs(items) do
  local ok, doc = pcall(cjson.decode, v)
  if ok and type(doc) == 'table' and doc['message_id'] == ARGV[1] and not doc['cancelled'] then
    doc['text'] = ''
    doc['cancelled'] = true
    redis.call('LSET', KEYS[1], i - 1, cjson.encode(doc))
    n = n + 1
  end
end
return n
"""


@dataclass(frozen=True)
class PendingMessage:
    message_id: str
    text: str
    ts: float  # epoch seconds
    cancelled: bool = False  # deleted or edited by the customer: not to be answered

    def encode(self) -> str:
        # Sorted keys: the same message always encodes to the same bytes, which is what push-once compares.
        doc = asdict(self)
        if not self.cancelled:
            del doc["cancelled"]
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def decode(cls, raw: bytes | str) -> PendingMessage | None:
        """None for an entry this version cannot read (it is skipped, never blocks the conversation)."""
        try:
            doc = json.loads(raw)
            return cls(str(doc["message_id"]), str(doc.get("text") or ""), _ts(doc.get("ts")),
                       doc.get("cancelled") is True)
        except (ValueError, KeyError, TypeError):
            return None


def _ts(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    try:
        return datetime.fromisoformat(str(v)).astimezone(UTC).timestamp()
    except ValueError:
        return 0.0


def pending_key(conversation: str) -> str:
    return f"{KEY_PREFIX}pending:{conversation}"


class PendingMessages:
    """The per-conversation list behind burst coalescing: `push` for guardrails, `read` and `trim` for the AI."""

    def __init__(self, redis: aioredis.Redis, ttl_s: int = PENDING_TTL_S) -> None:
        self.redis, self.ttl_s = redis, ttl_s

    async def push(self, conversation: str, message_id: str, text: str, ts: float) -> None:
        entry = PendingMessage(message_id, text, ts).encode()
        await self.redis.eval(_PUSH_ONCE, 1, pending_key(conversation), entry, self.ttl_s)

    async def read(self, conversation: str) -> tuple[list[PendingMessage], int]:
        """Every pending message once, oldest first (tombstones skipped), and how many entries were read (for
        `trim`)."""
        raw = await self.redis.lrange(pending_key(conversation), 0, -1)
        out: dict[str, PendingMessage] = {}
        for item in raw:
            p = PendingMessage.decode(item)
            if p is not None and not p.cancelled:
                out.setdefault(p.message_id, p)  # guardrails retried: same message pushed twice
        return list(out.values()), len(raw)

    async def cancel(self, conversation: str, message_id: str) -> int:
        """The customer deleted or edited `message_id`: its entries become tombstones; how many there were."""
        return int(await self.redis.eval(_CANCEL, 1, pending_key(conversation), message_id))

    @staticmethod
    def trim(pipe: Pipeline, conversation: str, read_count: int) -> None:
        """Drop the first `read_count` entries, inside the caller's transaction."""
        if read_count:
            pipe.ltrim(pending_key(conversation), read_count, -1)
