"""The topic registry says who reads what (and so does docs/asyncapi.yaml, generated from it): the workers each
service's `main` starts subscribe to exactly the topics the registry lists that service as a reader of."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.topics import TOPICS, read_by, readers
from services.ai import main as ai
from services.ai.config import AISettings
from services.console import main as console
from services.console.config import ConsoleSettings
from services.guardrails import main as guardrails
from services.guardrails.config import GuardrailsSettings
from services.media import main as media
from services.media.config import MediaSettings
from services.notifier import main as notifier
from services.notifier.config import NotifierSettings
from services.sender import main as sender
from services.sender.config import SenderSettings
from tests.fakes.store import MemoryStore
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import Resources, Service

TENANTS = str(Path(__file__).resolve().parents[2] / "config" / "tenants")
# Each service is wired exactly as its main() wires it, never run: no broker, Redis or store is touched.
SERVICES: dict[str, Callable[[Resources], Service | Awaitable[Service]]] = {
    "guardrails": lambda r: guardrails.build(GuardrailsSettings(_env_file=None, tenants_dir=TENANTS), r),
    "ai": lambda r: ai.build(AISettings(_env_file=None, tenants_dir=TENANTS, llm_provider="none"), r),
    "sender": lambda r: sender.build(SenderSettings(_env_file=None, tenants_dir=TENANTS), r),
    "notifier": lambda r: notifier.build(NotifierSettings(_env_file=None, tenants_dir=TENANTS), r),
    "media": lambda r: media.build(MediaSettings(_env_file=None, media_transcriber="none"), r),
    "console": lambda r: console.build(ConsoleSettings(_env_file=None, tenants_dir=TENANTS), r),
}


@pytest.fixture
async def resources() -> AsyncIterator[Resources]:
    redis = aioredis.Redis()  # connects on its first command, and none is sent
    yield Resources(CollectorRegistry(), cast(Producer, object()), redis, cast(Any, MemoryStore()))
    await redis.aclose()


def test_every_reader_in_the_registry_is_a_consumer_service() -> None:
    assert readers() == sorted(SERVICES)


@pytest.mark.parametrize("name", sorted(SERVICES))
async def test_workers_subscribe_to_exactly_the_registry_topics_the_service_reads(name: str,
                                                                                  resources: Resources) -> None:
    built = SERVICES[name](resources)
    service = await built if inspect.isawaitable(built) else built
    try:
        subscribed = [t for w in service.workers for t in w.cfg.topics]
        assert sorted(subscribed) == sorted(read_by(name)), name
        assert len(subscribed) == len(set(subscribed)), f"{name}: two of its workers read the same topic"
    finally:
        for close in service.closers:
            await close()


def test_guardrails_reads_what_the_media_stage_understood_and_not_the_raw_inbound_topic() -> None:
    inbound = next(t for t in TOPICS if t.name == "wa.inbound.v1")
    understood = next(t for t in TOPICS if t.name == "wa.inbound.understood.v1")
    assert inbound.readers == ("notifier", "media", "console")
    assert understood.writers == ("media",) and understood.readers == ("guardrails", "console")  # console: media cards
    assert understood.partitions == inbound.partitions and understood.key == inbound.key  # same order per key


def test_a_service_that_reads_nothing_is_an_error() -> None:
    with pytest.raises(KeyError, match="reads no registry topic"):
        read_by("ingress")
