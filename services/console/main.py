"""`wapipe run console` / `python -m services.console`: one process with the live-feed worker, the console's pages
(uvicorn on 8082) and /healthz /readyz /metrics on 9107 (metrics never on the console port)."""

from __future__ import annotations

import logging
from functools import partial

from services.console.app import build_app, ensure_dev_operator, service
from services.console.config import ConsoleSettings
from wapipe.logging import configure_logging
from wapipe.runtime import loop
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import settings_or_exit
from wapipe.tenants import TenantRegistry

log = logging.getLogger(__name__)


async def build(s: ConsoleSettings, r: Resources) -> Service:
    await ensure_dev_operator(s, r.store)
    app = build_app(s, redis=r.redis, store=r.store, producer=r.producer, tenants=TenantRegistry(s.tenants_dir),
                    registry=r.registry)
    log.info("console: pages on :%d", s.console_port)
    return service(app, host=s.console_host, port=s.console_port)


def main() -> None:
    s = settings_or_exit(ConsoleSettings, "console")
    configure_logging("console", production=s.production, level=s.log_level, fmt=s.log_format)
    loop.run(run_consumer(s, partial(build, s), port=s.console_metrics_port, host=s.console_host), s.event_loop)


if __name__ == "__main__":
    main()
