"""The one way services open Redis: an asyncio client with explicit timeouts."""

from __future__ import annotations

import redis.asyncio as aioredis

KEY_PREFIX = "wapipe:"


def connect(url: str) -> aioredis.Redis:
    return aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=3, health_check_interval=30)
