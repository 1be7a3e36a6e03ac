"""Backends for the store contract suite: SQLite always; Cassandra when one is reachable; and the in-memory
fake the unit tests use (`tests/fakes/store.py`), so it is held to the same contract.

Cassandra comes from `WAPIPE_CASSANDRA_CONTACT_POINTS` (host or host:port, comma separated; optional
`WAPIPE_CASSANDRA_DC`), else from testcontainers when a Docker engine answers, else its tests are skipped.
Each session uses a fresh keyspace, dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.store import MemoryStore
from tests.support import unique
from wapipe.store import ConversationStore, open_store
from wapipe.store.port import RETENTION

HOW_TO_RUN = (
    "no Cassandra reachable. Run the Cassandra contract tests with a server: "
    "`docker run -d --name cassandra -p 9042:9042 cassandra:5` then "
    "`WAPIPE_CASSANDRA_CONTACT_POINTS=127.0.0.1:9042 .venv/bin/pytest tests/integration/store` "
    "(or have a Docker engine reachable with testcontainers installed: `pip install -e '.[dev]'`)"
)

StoreFactory = Callable[..., Awaitable[ConversationStore]]


def _docker_cassandra() -> Any | None:
    """A started testcontainers Cassandra, or None when testcontainers or a Docker engine is missing."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return None
    try:
        from testcontainers.community.cassandra import CassandraContainer
    except ImportError:
        try:
            from testcontainers.cassandra import CassandraContainer  # testcontainers < 4.10
        except ImportError:
            return None
    container = CassandraContainer("cassandra:5.0")
    container.start()
    return container


@pytest.fixture(scope="session")
def cassandra_url() -> Iterator[str]:
    """A store URL on a fresh keyspace of a reachable Cassandra, migrated once for the session."""
    points, dc = os.environ.get("WAPIPE_CASSANDRA_CONTACT_POINTS", ""), os.environ.get("WAPIPE_CASSANDRA_DC", "")
    container = None
    if not points:
        container = _docker_cassandra()
        if container is None:
            pytest.skip(HOW_TO_RUN)
        host, port = container.get_contact_points()[0]
        points, dc = f"{host}:{port}", container.get_local_datacenter()
    keyspace = unique("wapipe_test_")
    url = f"cassandra://{points}/{keyspace}?rf=1" + (f"&dc={dc}" if dc else "")
    store = open_store(url)
    asyncio.run(_migrate(store))
    try:
        yield url
    finally:
        asyncio.run(_drop(store, keyspace))
        if container is not None:
            container.stop()


async def _migrate(store: ConversationStore) -> None:
    try:
        await store.migrate()
    finally:
        await store.close()


async def _drop(store: Any, keyspace: str) -> None:
    try:
        session = await store._connected()
        await asyncio.to_thread(session.execute, f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", "cassandra", "memory"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    if request.param == "memory":
        return "memory://"
    return str(request.getfixturevalue("cassandra_url"))


@pytest.fixture
async def make_store(store_url: str) -> AsyncIterator[StoreFactory]:
    """`await make_store(retention=timedelta(seconds=1))`: a migrated store of the parametrised backend."""
    opened: list[ConversationStore] = []
    backend, url = store_url.partition(":")[0], store_url

    async def make(retention: timedelta = RETENTION, **opts: Any) -> ConversationStore:
        if backend == "memory":
            fake = MemoryStore(retention=retention, **({"clock": opts["clock"]} if "clock" in opts else {}))
            opened.append(fake)
            return fake
        if backend == "sqlite":
            opts.setdefault("purge_interval", 0)
        store = open_store(url, retention=retention, **opts)
        if backend == "sqlite":  # Cassandra's schema is migrated once per session
            await store.migrate()
        opened.append(store)
        return store

    make.backend = backend  # type: ignore[attr-defined]
    try:
        yield make
    finally:
        for store in opened:
            await store.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> ConversationStore:
    return await make_store()
