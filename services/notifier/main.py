"""`wapipe run notifier` / `python -m services.notifier`: one process with the consumer worker, the operator API
(uvicorn on 8081, bearer token) and /healthz /readyz /metrics on 9105 (metrics never on the operator port)."""

from __future__ import annotations

import logging
from functools import partial

from services.notifier.app import build_app, service
from services.notifier.config import NotifierSettings
from wapipe.logging import configure_logging
from wapipe.runtime import loop
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import settings_or_exit
from wapipe.tenants import TenantRegistry

log = logging.getLogger(__name__)


def build(s: NotifierSettings, r: Resources) -> Service:
    app = build_app(s, redis=r.redis, store=r.store, producer=r.producer, tenants=TenantRegistry(s.tenants_dir),
                    registry=r.registry)
    log.info("notifier: operator API on :%d", s.notifier_port)
    return service(app, host=s.notifier_host, api_port=s.notifier_port)


def main() -> None:
    s = settings_or_exit(NotifierSettings, "notifier")
    configure_logging("notifier", production=s.production, level=s.log_level, fmt=s.log_format)
    loop.run(run_consumer(s, partial(build, s), port=s.notifier_metrics_port, host=s.notifier_host), s.event_loop)


if __name__ == "__main__":
    main()
