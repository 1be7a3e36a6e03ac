"""`wapipe run ai` / `python -m services.ai`: consume wa.ai.requests.v1, answer with the model chain, serve
/healthz /readyz /metrics on 9103."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from services.ai.app import build_app, connect_redis
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from wapipe.logging import configure_logging
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve_worker
from wapipe.store import ContextCache, open_store
from wapipe.tenants import TenantRegistry


async def run(s: AISettings) -> None:
    registry = CollectorRegistry()
    redis = connect_redis(s.redis_url, s.ai_redis_max_connections)
    store = open_store(s.store_url)
    await store.migrate()
    producer = Producer(s.kafka(), topic_prefix=s.topic_prefix)
    app = build_app(s, redis=redis, tenants=RegistryTenants(TenantRegistry(s.tenants_dir)),
                    context=ContextCache(redis, store), traces=store, producer=producer, registry=registry,
                    group_id=s.ai_consumer_group)
    await serve_worker(app.worker, port=s.ai_metrics_port, registry=registry,
                       on_shutdown=[app.handler.d.chain.close, store.close, redis.aclose])


def main() -> None:
    s = AISettings()
    configure_logging("ai", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run(s))
