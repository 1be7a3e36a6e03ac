"""Server-Sent Events: each open page holds one stream of the inbox changes of its operator's tenants, read from
Redis pub/sub (`store_redis.live_channel`). The browser's EventSource reconnects by itself (`retry:`); a stream
also ends after `max_s`, so a stopping console never waits on open pages for long."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis

from services.console.metrics import ConsoleMetrics
from services.console.store_redis import P, live_channel
from wapipe.access import Scope

log = logging.getLogger(__name__)
RETRY_MS = 1000
PING_S = 15.0


async def stream(redis: aioredis.Redis, who: Scope, metrics: ConsoleMetrics,
                 disconnected: Callable[[], Awaitable[bool]], max_s: float = 300.0) -> AsyncIterator[str]:
    pubsub = redis.pubsub()
    if who.all_tenants:
        await pubsub.psubscribe(f"{P}live:*")
    else:
        await pubsub.subscribe(*[live_channel(t) for t in sorted(who.tenants)])
    metrics.live_streams.inc()
    loop = asyncio.get_running_loop()
    started = last = loop.time()
    try:
        yield f"retry: {RETRY_MS}\nevent: hello\ndata: {{}}\n\n"
        while loop.time() - started < max_s and not await disconnected():
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if msg is not None and msg.get("type") in ("message", "pmessage"):
                data = msg["data"].decode() if isinstance(msg["data"], bytes) else str(msg["data"])
                try:
                    kind = str(json.loads(data).get("kind", "change"))
                except ValueError:
                    continue
                metrics.live_events.labels(kind).inc()
                last = loop.time()
                yield f"event: change\ndata: {data}\n\n"
            elif loop.time() - last > PING_S:
                last = loop.time()
                yield ": ping\n\n"
    finally:
        metrics.live_streams.dec()
        try:
            await pubsub.aclose()
        except (ConnectionError, OSError) as exc:  # Redis went away meanwhile: nothing left to close
            log.debug("live stream: pubsub not closed cleanly: %s", exc)
