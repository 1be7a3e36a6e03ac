"""Readiness probe: can we fetch broker metadata? The answer is cached briefly so probes stay cheap."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from confluent_kafka.admin import AdminClient

from wapipe.kafka import Broker, client_config


class BrokerProbe:
    """Adapter around an AdminClient metadata request; `ready()` never blocks the event loop."""

    def __init__(self, broker: Broker, *, timeout_s: float = 2.0, cache_s: float = 2.0,
                 extra: dict[str, Any] | None = None) -> None:
        self._admin = AdminClient(client_config(broker, {
            "socket.connection.setup.timeout.ms": int(timeout_s * 1000), **(extra or {})}))
        self._timeout_s = timeout_s
        self._cache_s = cache_s
        self._checked_at = float("-inf")
        self._ok = False
        self._lock = asyncio.Lock()

    def _check(self) -> bool:
        try:
            md = self._admin.list_topics(timeout=self._timeout_s)
        except Exception:  # noqa: BLE001 - any failure means "not ready"
            return False
        finally:
            self._admin.poll(0)  # hands librdkafka's queued log lines to Python logging
        return bool(md.brokers)

    async def ready(self) -> bool:
        async with self._lock:
            if time.monotonic() - self._checked_at > self._cache_s:
                self._ok = await asyncio.to_thread(self._check)
                self._checked_at = time.monotonic()
            return self._ok
