"""The ingress wiring point: `create_app` builds the FastAPI app from settings and (optionally) ready adapters.

Metrics are not served here: `main` exposes `registry` on its own port (9101), away from the public /webhook port.

Adapters passed in are used as they are and left to the caller to close (tests pass the real broker's producer
and Redis). Missing ones are built by the lifespan from the settings and closed on shutdown (production). The
tenant registry (`WAPIPE_TENANTS_DIR`, re-read when a file changes) tells /api/chat which tenants exist.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.ingress import api_chat, webhook
from services.ingress.config import IngressSettings
from services.ingress.deps import Deps, Publisher, Readiness, TenantLookup
from services.ingress.metrics import IngressMetrics
from services.ingress.readiness import BrokerProbe
from services.ingress.resolve import IdentityResolver
from wapipe.runtime.http import NO_OTEL
from wapipe.runtime.loop import uvicorn_options
from wapipe.runtime.resources import open_producer, open_redis, open_store
from wapipe.state.identity import IdentityMap
from wapipe.store import IdentityStore
from wapipe.tenants import TenantRegistry


def create_app(settings: IngressSettings, *, producer: Publisher | None = None, redis: aioredis.Redis | None = None,
               store: IdentityStore | None = None, registry: CollectorRegistry | None = None,
               probe: Readiness | None = None, tenants: TenantLookup | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """`store` holds the identity map's durable copy; without one (and without the lifespan, which opens
    `WAPIPE_STORE_URL`) webhooks keep the keys normalisation gave them."""
    registry = registry if registry is not None else CollectorRegistry()
    tenants = tenants or TenantRegistry(settings.tenants_dir)
    metrics = IngressMetrics(registry)
    deps = Deps(settings=settings, metrics=metrics, producer=producer, redis=redis, tenants=tenants,
                clock=clock,
                probe=probe or BrokerProbe(settings.kafka(), cache_s=settings.ingress_ready_cache_s))
    if redis is not None and store is not None:
        deps.identities = IdentityResolver(IdentityMap(redis, store), metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The resources the consumers' run_consumer opens, the same way; closed in reverse order on shutdown.
        async with AsyncExitStack() as owned:
            if deps.producer is None:
                deps.producer = owned.enter_context(open_producer(
                    settings, delivery_timeout_s=settings.ingress_publish_timeout_s,
                    extra={"linger.ms": settings.ingress_linger_ms}))
            if deps.redis is None:
                deps.redis = await owned.enter_async_context(open_redis(settings.redis()))
            if deps.identities is None:
                ids = store if store is not None else await owned.enter_async_context(open_store(settings.store_url))
                deps.identities = IdentityResolver(IdentityMap(deps.redis, ids), metrics)
            yield

    deps.metrics.webhook_body_bytes_in_flight.set_function(lambda: deps.body_budget.held)
    app = FastAPI(title="wapipe ingress", lifespan=lifespan, docs_url=None, redoc_url=None, telemetry=NO_OTEL)
    app.state.deps = deps
    app.include_router(webhook.router)
    app.add_middleware(webhook.WebhookFastPath)
    app.include_router(api_chat.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "broker unreachable", "content": {"application/json": {}}}})
    async def readyz(request: Request) -> JSONResponse:
        ok = deps.producer is not None and await deps.probe.ready()
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    return app


def server_options(settings: IngressSettings) -> dict[str, Any]:
    """uvicorn's options for this app (`main` and the tests that serve it on a real socket use the same ones).

    `limit_concurrency` answers 503 to a request that arrives while that many connections are open or requests
    running, so a flood of idle connections cannot exhaust the process; webhook bodies have their own, smaller
    bound inside the app, in bytes (`WAPIPE_INGRESS_MAX_BODY_BYTES_IN_FLIGHT`, `admission.py`).
    """
    return {"host": settings.ingress_host, "port": settings.ingress_port, "log_config": None,
            "limit_concurrency": settings.ingress_max_connections, "timeout_graceful_shutdown": 10,
            **uvicorn_options(settings.event_loop)}
