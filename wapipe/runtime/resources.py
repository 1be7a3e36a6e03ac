"""The resources a service process opens once and closes on the way out, each as a context manager so one
`AsyncExitStack` (`run_consumer`, ingress's lifespan) closes them in reverse order whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import redis.asyncio as aioredis

from wapipe.redis import DEFAULT_MAX_CONNECTIONS, RedisConnection, connect
from wapipe.runtime.producer import Producer
from wapipe.settings import CommonSettings
from wapipe.store import Store
from wapipe.store import open_store as _open_store


@contextmanager
def open_producer(settings: CommonSettings, *, delivery_timeout_s: float = 10.0,
                  extra: dict[str, object] | None = None) -> Iterator[Producer]:
    """The process's producer (broker and security from the settings); on exit it flushes what is queued
    (bounded by `delivery_timeout_s`) and stops its poll thread."""
    producer = Producer(settings.kafka(), topic_prefix=settings.topic_prefix, delivery_timeout_s=delivery_timeout_s,
                        extra=extra)
    try:
        yield producer
    finally:
        producer.close(timeout_s=delivery_timeout_s)


@asynccontextmanager
async def open_redis(where: str | RedisConnection, max_connections: int = DEFAULT_MAX_CONNECTIONS,
                     ) -> AsyncIterator[aioredis.Redis]:
    """`wapipe.redis.connect` (a URL, or `CommonSettings.redis()`: URL, ACL user and password); on exit the client
    and its whole connection pool are closed."""
    client = connect(where, max_connections)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[Store]:
    """The conversation store at `url`, migrated before use and closed on exit."""
    store = _open_store(url)
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()
