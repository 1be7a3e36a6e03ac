"""`wapipe run ingress`: uvicorn serving the app (8080) plus a Prometheus endpoint (9101)."""

from __future__ import annotations

import signal

import uvicorn
from prometheus_client import CollectorRegistry, start_http_server

from services.ingress.app import create_app, server_options
from services.ingress.config import IngressSettings
from wapipe.logging import configure_logging
from wapipe.settings import settings_or_exit


def main() -> None:
    settings = settings_or_exit(IngressSettings, "ingress")
    configure_logging("ingress", production=settings.production, level=settings.log_level,
                      fmt=settings.log_format)
    registry = CollectorRegistry()
    app = create_app(settings, registry=registry)
    start_http_server(settings.ingress_metrics_port, addr=settings.ingress_host, registry=registry)
    # One worker per process: scale with replicas; uvicorn handles SIGTERM (drain in-flight requests, lifespan
    # shutdown closes the producer after flushing).
    # uvicorn re-raises the stop signal after its graceful shutdown; a no-op handler turns that into exit 0
    # (as the other services do on SIGTERM) instead of a death by signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.run(app, **server_options(settings))


if __name__ == "__main__":
    main()
