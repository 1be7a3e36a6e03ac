"""A notifier wired to the real broker, real Redis and a SQLite store, with the demo tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.notifier.app import NotifierApp, build_app
from services.notifier.config import NotifierSettings
from wapipe.runtime.producer import Producer
from wapipe.store import ConversationStore, open_store
from wapipe.tenants import TenantRegistry

TOKEN = "operator-token-for-the-tests-0123456789"
TENANTS_DIR = Path(__file__).resolve().parents[3] / "config" / "tenants"


@dataclass
class Running:
    app: NotifierApp
    store: ConversationStore
    producer: Producer
    registry: CollectorRegistry
    task: asyncio.Task[None] | None = None

    async def start_worker(self) -> None:
        self.task = asyncio.create_task(self.app.worker.run())
        await self.app.worker.wait_ready(30)


@pytest.fixture
async def notifier(kafka_bootstrap: str, topic_prefix: str, group_id: str, redis_url: str,
                   redis_client: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Running]:
    s = NotifierSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix, redis_url=redis_url,
                         admin_token=SecretStr(TOKEN), tenants_dir=str(TENANTS_DIR), notifier_alert_interval_s=600)
    store = open_store(f"sqlite:///{tmp_path}/notifier.db")
    await store.migrate()
    producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix)
    registry = CollectorRegistry()
    app = build_app(s, redis=redis_client, store=store, producer=producer, tenants=TenantRegistry(TENANTS_DIR),
                    registry=registry, group_id=group_id)
    running = Running(app, store, producer, registry)
    try:
        yield running
    finally:
        if running.task is not None:
            await app.worker.stop()
            await running.task
        await app.dlq.close()
        producer.close()
        await store.close()
