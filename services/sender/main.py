"""`wapipe run sender` / `python -m services.sender`: consume wa.outbound.v1 and wa.status.v1, send via the Graph
API, serve /healthz /readyz /metrics on 9104."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import CollectorRegistry

from services.sender.app import build_app, settings_policies
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, TenantPolicies
from wapipe.logging import configure_logging
from wapipe.redis import connect
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve_worker
from wapipe.store import open_store
from wapipe.tenants import TenantRegistry


async def run(s: SenderSettings) -> None:
    registry = CollectorRegistry()
    redis = connect(s.redis_url)
    store = open_store(s.store_url)
    await store.migrate()
    producer = Producer(s.kafka(), topic_prefix=s.topic_prefix)
    policies: TenantPolicies = RegistryPolicies(TenantRegistry(s.tenants_dir), settings_policies(s).default) \
        if Path(s.tenants_dir).is_dir() else settings_policies(s)
    app = build_app(s, redis=redis, store=store, producer=producer, registry=registry, group_id=s.sender_consumer_group,
                    policies=policies)
    statuses = asyncio.create_task(app.status_worker.run())

    async def stop_statuses() -> None:
        await app.status_worker.stop()
        await statuses

    await serve_worker(app.worker, port=s.sender_metrics_port, registry=registry,
                       on_shutdown=[stop_statuses, app.graph.aclose, store.close, redis.aclose])


def main() -> None:
    s = SenderSettings()
    configure_logging("sender", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run(s))
