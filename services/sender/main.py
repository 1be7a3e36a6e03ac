"""`wapipe run sender` / `python -m services.sender`: consume wa.outbound.v1 and wa.status.v1, send via the Graph
API, serve /healthz /readyz /metrics on 9104."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from services.sender.app import build_app, settings_policies
from services.sender.config import SenderSettings
from services.sender.ports import RegistryPolicies, TenantPolicies
from wapipe.logging import configure_logging
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import settings_or_exit
from wapipe.tenants import TenantRegistry


def build(s: SenderSettings, r: Resources) -> Service:
    policies: TenantPolicies = RegistryPolicies(TenantRegistry(s.tenants_dir), settings_policies(s).default) \
        if Path(s.tenants_dir).is_dir() else settings_policies(s)
    app = build_app(s, redis=r.redis, store=r.store, producer=r.producer, registry=r.registry,
                    group_id=s.sender_consumer_group, policies=policies)
    return Service("sender", [app.worker, app.status_worker], closers=[app.aclose])


def main() -> None:
    s = settings_or_exit(SenderSettings, "sender")
    configure_logging("sender", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run_consumer(s, partial(build, s), port=s.sender_metrics_port, host=s.sender_host))
