"""What the ingress routes need, held on `app.state.deps`, and the one publish path every route uses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import redis.asyncio as aioredis
from confluent_kafka import KafkaException

from schemas.topics import RAW_WEBHOOKS, dlq_name
from services.ingress.admission import BodyBudget
from services.ingress.config import IngressSettings
from services.ingress.metrics import IngressMetrics
from services.ingress.parts import UnreadablePart
from services.ingress.rawlog import Record, dlq_record
from services.ingress.resolve import IdentityResolver
from wapipe.runtime.producer import DeliveryFailed
from wapipe.runtime.types import Emit
from wapipe.tenants import Tenant


class Publisher(Protocol):
    """Port: produce events or raw records and return once the broker confirmed every one
    (wapipe.runtime.producer.Producer). `topic_prefix` applies to events; `send` takes the topic as given."""

    topic_prefix: str

    async def publish_all(self, emits: Sequence[Emit]) -> None: ...

    async def send(self, topic: str, value: bytes, key: str | bytes | None = None,
                   headers: Sequence[tuple[str, bytes]] | None = None) -> tuple[int, int]: ...


class Readiness(Protocol):
    """Port: is the broker reachable right now?"""

    async def ready(self) -> bool: ...


class TenantLookup(Protocol):
    """Port: the tenant registered under a phone_number_id, None when there is none (`wapipe.tenants`)."""

    def get(self, phone_number_id: str) -> Tenant | None: ...


class PublishFailed(RuntimeError):
    """The broker did not confirm every event within the publish timeout."""


@dataclass
class Deps:
    settings: IngressSettings
    metrics: IngressMetrics
    probe: Readiness
    tenants: TenantLookup
    producer: Publisher | None = None  # None until the lifespan built it
    redis: aioredis.Redis | None = None
    identities: IdentityResolver | None = None  # None: conversation keys as normalised (no identity map)
    clock: Callable[[], float] = time.time  # epoch seconds, for the rate windows (tests pin it)
    body_budget: BodyBudget = field(init=False)  # bytes of webhook bodies in memory at once
    fields_logged: set[str] = field(default_factory=set)  # webhook fields already logged as not handled

    def __post_init__(self) -> None:
        self.body_budget = BodyBudget(self.settings.ingress_max_body_bytes_in_flight)


async def publish(deps: Deps, emits: Sequence[Emit]) -> None:
    """Publish and wait for confirmation, bounded so Meta gets a 503 (and retries) instead of a hang."""
    if not emits:
        return
    async with _bounded(deps) as producer:
        await producer.publish_all(emits)
    _count(deps, emits)


async def publish_webhook(deps: Deps, raw: Record, emits: Sequence[Emit], parts: Sequence[UnreadablePart],
                          received_at: datetime) -> None:
    """The raw record, the events and a DLQ record per unreadable part, all confirmed (or PublishFailed) within
    the publish bound. With no unreadable part everything goes at once; otherwise the raw record is confirmed
    first, so each DLQ record can name where the whole body is (topic, partition, offset)."""
    async with _bounded(deps) as producer:
        raw_topic = producer.topic_prefix + RAW_WEBHOOKS
        if not parts:
            await _all(producer.send(raw_topic, raw.value, raw.key, raw.headers), producer.publish_all(emits))
        else:
            partition, offset = await producer.send(raw_topic, raw.value, raw.key, raw.headers)
            dead = [dlq_record(p, raw, raw_topic=raw_topic, partition=partition, offset=offset,
                               received_at=received_at) for p in parts]
            await _all(producer.publish_all(emits),
                       *(producer.send(dlq_name(raw_topic), d.value, d.key, d.headers) for d in dead))
    _count(deps, emits)


@asynccontextmanager
async def _bounded(deps: Deps) -> AsyncIterator[Publisher]:
    if deps.producer is None:
        raise PublishFailed("producer not started")
    try:
        async with asyncio.timeout(deps.settings.ingress_publish_timeout_s):  # no extra task, unlike wait_for
            yield deps.producer
    except TimeoutError:
        raise PublishFailed(f"no confirmation within {deps.settings.ingress_publish_timeout_s:g}s") from None
    except (DeliveryFailed, KafkaException, BufferError) as e:
        raise PublishFailed(str(e)) from e


async def _all(*writes: Awaitable[object]) -> None:
    """Await every write (none left unobserved), then raise the first failure."""
    results = await asyncio.gather(*writes, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r


def _count(deps: Deps, emits: Sequence[Emit]) -> None:
    for emit in emits:
        deps.metrics.events_published.labels(type=emit.event.type, tenant=emit.event.tenant).inc()
