"""The topic registry says who reads what (and so does docs/asyncapi.yaml, generated from it): each service's
workers subscribe to exactly the topics the registry lists it as a reader of."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.topics import TOPICS, read_by, readers
from services.ai.app import build_app as build_ai
from services.ai.config import AISettings
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.config import NotifierSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from tests.unit.notifier.fakes import FakeStore, FakeTenants
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).resolve().parents[2] / "config" / "tenants"
# Workers are built, never run: no broker, Redis or store is touched.
NO_PRODUCER = cast(Producer, object())


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis()  # connects on first command, and none is sent
    yield client
    await client.aclose()


async def _guardrails(r: aioredis.Redis) -> list[Worker]:
    s = GuardrailsSettings(_env_file=None, tenants_dir=str(TENANTS))  # type: ignore[call-arg]
    return [build_guardrails(s, redis=r, store=FakeStore(), producer=NO_PRODUCER,  # type: ignore[arg-type]
                             registry=CollectorRegistry()).worker]


async def _ai(r: aioredis.Redis) -> list[Worker]:
    s = AISettings(_env_file=None, llm_provider="none")  # type: ignore[call-arg]
    store: Any = FakeStore()
    return [build_ai(s, redis=r, tenants=cast(Any, FakeTenants()), context=store, traces=store,
                     producer=NO_PRODUCER, registry=CollectorRegistry()).worker]


async def _notifier(r: aioredis.Redis) -> list[Worker]:
    s = NotifierSettings(_env_file=None)  # type: ignore[call-arg]
    return [build_notifier(s, redis=r, store=cast(Any, FakeStore()), producer=NO_PRODUCER,
                           tenants=TenantRegistry(TENANTS), registry=CollectorRegistry()).worker]


async def _sender(r: aioredis.Redis) -> list[Worker]:
    s = SenderSettings(_env_file=None)  # type: ignore[call-arg]
    app = build_sender(s, redis=r, store=cast(Any, FakeStore()), producer=NO_PRODUCER, registry=CollectorRegistry())
    await app.graph.aclose()
    return [app.worker, app.status_worker]


BUILDERS: dict[str, Callable[[aioredis.Redis], Awaitable[list[Worker]]]] = {
    "guardrails": _guardrails, "ai": _ai, "sender": _sender, "notifier": _notifier}


def test_every_reader_in_the_registry_is_a_consumer_service() -> None:
    assert readers() == sorted(BUILDERS)


@pytest.mark.parametrize("service", sorted(BUILDERS))
async def test_workers_subscribe_to_exactly_the_registry_topics_the_service_reads(service: str,
                                                                                  redis: aioredis.Redis) -> None:
    workers = await BUILDERS[service](redis)
    subscribed = [t for w in workers for t in w.cfg.topics]
    assert sorted(subscribed) == sorted(read_by(service)), service
    assert len(subscribed) == len(set(subscribed)), f"{service}: two workers of one service read the same topic"


def test_the_notifier_reads_the_inbound_topic_with_guardrails() -> None:
    inbound = next(t for t in TOPICS if t.name == "wa.inbound.v1")
    assert inbound.readers == ("guardrails", "notifier")


def test_a_service_that_reads_nothing_is_an_error() -> None:
    with pytest.raises(KeyError, match="reads no registry topic"):
        read_by("ingress")
