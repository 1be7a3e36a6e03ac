"""The one way services open Redis: an asyncio client with explicit timeouts."""

from __future__ import annotations

import redis.asyncio as aioredis

KEY_PREFIX = "wapipe:"
DEFAULT_MAX_CONNECTIONS = 256


def connect(url: str, max_connections: int = DEFAULT_MAX_CONNECTIONS) -> aioredis.Redis:
    """A client whose pool makes callers wait for a free connection instead of failing: redis-py's default
    pool raises MaxConnectionsError past 100 connections, which a worker with 256 handlers in flight hits under
    load (each failure retried, then sent to the DLQ, i.e. a lost reply). The client owns its pool: `aclose()`
    closes every connection of it."""
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=10,
                                                    socket_timeout=5, socket_connect_timeout=3,
                                                    health_check_interval=30)
    return aioredis.Redis.from_pool(pool)
