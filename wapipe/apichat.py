"""How a `/api/chat` request gets its reply back: the sender pushes it, ingress waits for it.

Keyed by the correlation id (the api message's id), so the reply reaches the request that is waiting, on
whichever ingress replica it landed.
"""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from wapipe.redis import KEY_PREFIX

REPLY_TTL_S = 300


def _key(correlation_id: str) -> str:
    return f"{KEY_PREFIX}apichat:{correlation_id}"


async def push_reply(redis: aioredis.Redis, correlation_id: str, reply: dict[str, Any]) -> None:
    """reply: {reply, route, decision_path, llm_called, ...}."""
    pipe = redis.pipeline()
    pipe.rpush(_key(correlation_id), json.dumps(reply, ensure_ascii=False))
    pipe.expire(_key(correlation_id), REPLY_TTL_S)
    await pipe.execute()


async def wait_reply(redis: aioredis.Redis, correlation_id: str, timeout_s: float) -> dict[str, Any] | None:
    """The first reply for this message, or None when none arrived within `timeout_s`."""
    got = await redis.blpop([_key(correlation_id)], timeout=max(timeout_s, 0.01))
    if not got:
        return None
    doc: dict[str, Any] = json.loads(got[1])
    return doc
