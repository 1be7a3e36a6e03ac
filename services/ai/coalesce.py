"""Burst coalescing: one answer for the 2-4 short messages a customer sends in a row.

Guardrails appends each message that needs the model to the conversation's pending list
(`wapipe.state.pending`) and sets `AnswerRequested.payload.not_before = now + window`. Requests of one
conversation reach this stage in order, one at a time (same Kafka key), so the handler can:
  1. wait until not_before, and a little longer while new messages keep arriving (bounded by max_wait);
  2. read the whole pending list and answer it all at once;
  3. record which message ids that answer covered, trim what it read, and memoise the answer by correlation id.
A later request whose message is already covered ends as `coalesced`. A retried request finds its memo and
re-emits the same reply (same deterministic id) without calling the model again.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX
from wapipe.state.pending import PendingMessage, PendingMessages

STATE_TTL_S = 24 * 3600


class PendingBuffer:
    def __init__(self, redis: aioredis.Redis, *, window_s: float = 1.5, max_wait_s: float = 4.0) -> None:
        self._r = redis
        self._pending = PendingMessages(redis)
        self._window = window_s
        self._max_wait = max_wait_s

    def _covered_key(self, conversation: str) -> str:
        return f"{KEY_PREFIX}ai:covered:{conversation}"

    @staticmethod
    def _memo_key(correlation_id: str) -> str:
        return f"{KEY_PREFIX}ai:memo:{correlation_id}"

    async def covered_by(self, conversation: str, message_id: str) -> str | None:
        v = await self._r.hget(self._covered_key(conversation), message_id)
        return v.decode() if isinstance(v, bytes) else v

    async def memo(self, correlation_id: str) -> dict[str, Any] | None:
        raw = await self._r.get(self._memo_key(correlation_id))
        return json.loads(raw) if raw else None

    async def wait_quiet(self, conversation: str, not_before: datetime | None) -> tuple[list[PendingMessage], int]:
        """Sleep until not_before, then while the newest pending message is younger than the window."""
        start = time.time()
        if not_before is not None:
            await asyncio.sleep(max(0.0, min(not_before.timestamp() - start, self._max_wait)))
        while True:
            entries, n = await self._pending.read(conversation)
            newest = max((p.ts for p in entries), default=0.0)
            now = time.time()
            quiet_at = newest + self._window
            if not_before is None or quiet_at <= now or now - start >= self._max_wait:
                return entries, n
            await asyncio.sleep(min(quiet_at - now, self._max_wait - (now - start)))

    async def finish(self, conversation: str, read_count: int, covered: list[str], coverer: str,
                     correlation_id: str, memo: dict[str, Any]) -> None:
        pipe = self._r.pipeline(transaction=True)
        pipe.set(self._memo_key(correlation_id), json.dumps(memo, ensure_ascii=False), ex=STATE_TTL_S)
        if covered:
            pipe.hset(self._covered_key(conversation), mapping={m: coverer for m in covered})
            pipe.expire(self._covered_key(conversation), STATE_TTL_S)
        # guardrails only appends, so the first `read_count` entries are exactly the ones answered
        self._pending.trim(pipe, conversation, read_count)
        await pipe.execute()
