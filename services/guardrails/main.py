"""`wapipe run guardrails`: consume wa.inbound.v1, decide, serve /healthz /readyz /metrics on 9102."""

from __future__ import annotations

from functools import partial

from services.guardrails.app import build_app
from services.guardrails.config import GuardrailsSettings
from wapipe.logging import configure_logging
from wapipe.runtime import loop
from wapipe.runtime.service import Resources, Service, run_consumer
from wapipe.settings import settings_or_exit


def build(s: GuardrailsSettings, r: Resources) -> Service:
    app = build_app(s, redis=r.redis, store=r.store, producer=r.producer, registry=r.registry)
    return Service("guardrails", [app.worker])


def main() -> None:
    s = settings_or_exit(GuardrailsSettings, "guardrails")
    configure_logging("guardrails", production=s.production, level=s.log_level, fmt=s.log_format)
    loop.run(run_consumer(s, partial(build, s), port=s.guardrails_metrics_port, host=s.guardrails_host), s.event_loop)
