"""`wapipe run ai` / `python -m services.ai`: consume wa.ai.requests.v1, answer with the model chain, serve
/healthz /readyz /metrics on 9103."""

from __future__ import annotations

from functools import partial

import httpx

from services.ai.app import build_app, make_tools
from services.ai.catalog import StoreCatalog
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from wapipe.catalog import open_catalog
from wapipe.logging import configure_logging
from wapipe.runtime import loop
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import settings_or_exit
from wapipe.store import ContextCache
from wapipe.tenants import TenantRegistry


def build(s: AISettings, r: Resources) -> Service:
    # One client for every tenant's HTTP tools; redirects are never followed (see http_tools.py).
    http = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
    # The catalogs live in the conversation store's backend; hybrid search when an embeddings model is set.
    catalog = StoreCatalog(open_catalog(s.store_url), s.catalog_embedder())
    tools = make_tools(s, catalog, http)
    tenant_files = TenantRegistry(s.tenants_dir)
    app = build_app(s, redis=r.redis, tenants=RegistryTenants(tenant_files),
                    context=ContextCache(r.redis, r.store), traces=r.store, producer=r.producer, registry=r.registry,
                    tools=tools, group_id=s.ai_consumer_group)
    app.handler.d.metrics.start(t.phone_number_id for t in tenant_files.all())
    return Service("ai", [app.worker], closers=[app.handler.d.chain.close, http.aclose, catalog.close])


def main() -> None:
    s = settings_or_exit(AISettings, "ai")
    configure_logging("ai", production=s.production, level=s.log_level, fmt=s.log_format)
    # Hundreds of answers in flight share a bounded pool: a request waits for a free connection.
    loop.run(run_consumer(s, partial(build, s), port=s.ai_metrics_port, host=s.ai_host,
                          redis_max_connections=s.ai_redis_max_connections), s.event_loop)
