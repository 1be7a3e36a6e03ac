"""Answer cache in Redis: the same (normalised) question to the same tenant and knowledge version, one model call.

Only standalone questions are cached: a very short message ("¿y en negro?") depends on the conversation.
"""

from __future__ import annotations

import hashlib
import json

import redis.asyncio as aioredis

from services.ai.prompt import Answer
from services.ai.tenant import normalise
from wapipe.redis import KEY_PREFIX

MIN_QUESTION_CHARS = 12


def cache_key(tenant: str, knowledge_version: str, question: str) -> str | None:
    q = normalise(question)
    if len(q) < MIN_QUESTION_CHARS:
        return None
    digest = hashlib.sha256(f"{tenant}\x1f{knowledge_version}\x1f{q}".encode()).hexdigest()[:32]
    return f"{KEY_PREFIX}ai:answer:{digest}"


class AnswerCache:
    def __init__(self, redis: aioredis.Redis, ttl_s: int) -> None:
        self._r = redis
        self._ttl = ttl_s

    async def get(self, key: str) -> Answer | None:
        raw = await self._r.get(key)
        if not raw:
            return None
        doc = json.loads(raw)
        return Answer(answer=doc["answer"], handoff=False, reason=doc.get("reason", ""))

    async def put(self, key: str, answer: Answer) -> None:
        await self._r.set(key, json.dumps({"answer": answer.answer, "reason": answer.reason}, ensure_ascii=False),
                          ex=self._ttl)
