"""What the ingress routes need, held on `app.state.deps`, and the one publish path every route uses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis.asyncio as aioredis
from confluent_kafka import KafkaException

from services.ingress.admission import BodyBudget
from services.ingress.config import IngressSettings
from services.ingress.metrics import IngressMetrics
from services.ingress.resolve import IdentityResolver
from wapipe.runtime.producer import DeliveryFailed
from wapipe.runtime.types import Emit
from wapipe.tenants import Tenant


class Publisher(Protocol):
    """Port: produce events and return once the broker confirmed every one (wapipe.runtime.producer.Producer)."""

    async def publish_all(self, emits: Sequence[Emit]) -> None: ...


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

    def __post_init__(self) -> None:
        self.body_budget = BodyBudget(self.settings.ingress_max_body_bytes_in_flight)


async def publish(deps: Deps, emits: Sequence[Emit]) -> None:
    """Publish and wait for confirmation, bounded so Meta gets a 503 (and retries) instead of a hang."""
    if not emits:
        return
    if deps.producer is None:
        raise PublishFailed("producer not started")
    try:
        async with asyncio.timeout(deps.settings.ingress_publish_timeout_s):  # no extra task, unlike wait_for
            await deps.producer.publish_all(emits)
    except TimeoutError:
        raise PublishFailed(f"no confirmation within {deps.settings.ingress_publish_timeout_s:g}s") from None
    except (DeliveryFailed, KafkaException, BufferError) as e:
        raise PublishFailed(str(e)) from e
    for emit in emits:
        deps.metrics.events_published.labels(type=emit.event.type, tenant=emit.event.tenant).inc()
