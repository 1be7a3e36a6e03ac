"""Wiring: the handler with its Redis adapters, the tenant registry, the store and the runtime worker."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas import topics
from services.guardrails.adapters import RedisDedupe, RedisFlood
from services.guardrails.config import GuardrailsSettings
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.ports import GuardrailsStore
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.state.answers import Answers
from wapipe.state.consent import Consent
from wapipe.state.moves import ConversationMover, StateMove
from wapipe.state.pending import PendingMessages
from wapipe.state.sent import SentMessages
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.tenants import TenantRegistry

# State that follows a customer to their new conversation key beyond the store, the window clock and shadow mode
# (`wapipe.state.moves`); consent (`wapipe.state.consent.Consent`) is added to these in `build_handler`.
EXTRA_MOVES: tuple[StateMove, ...] = ()


@dataclass
class GuardrailsApp:
    handler: GuardrailsHandler
    worker: Worker
    tenants: TenantRegistry


def build_handler(s: GuardrailsSettings, *, redis: aioredis.Redis, store: GuardrailsStore,
                  tenants: TenantRegistry, registry: CollectorRegistry) -> GuardrailsHandler:
    consent = Consent(redis, store)
    ports = Ports(
        dedupe=RedisDedupe(redis, s.dedupe_ttl_s), window=ServiceWindow(redis), shadow=ShadowMode(redis),
        flood=RedisFlood(redis, s.flood_limit, s.flood_window_s), pending=PendingMessages(redis, s.pending_ttl_s),
        tenants=tenants, store=store, consent=consent, answers=Answers(redis),
        moves=ConversationMover(redis, store, (*EXTRA_MOVES, consent)), sent=SentMessages(redis))
    return GuardrailsHandler(ports, GuardrailsMetrics(registry),
                             Limits(human_active_ttl_s=s.human_active_ttl_s, coalesce_window_s=s.coalesce_window_s))


def build_app(s: GuardrailsSettings, *, redis: aioredis.Redis, store: GuardrailsStore, producer: Producer,
              registry: CollectorRegistry, tenants: TenantRegistry | None = None,
              group_id: str | None = None) -> GuardrailsApp:
    tenants = tenants or TenantRegistry(s.tenants_dir, check_interval_s=s.tenants_reload_s)
    handler = build_handler(s, redis=redis, store=store, tenants=tenants, registry=registry)
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id or s.guardrails_consumer_group,
                       topics=topics.read_by("guardrails"), topic_prefix=s.topic_prefix, service="guardrails",
                       max_in_flight=s.guardrails_max_in_flight, max_attempts=s.guardrails_max_attempts,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    return GuardrailsApp(handler, Worker(cfg, handler, producer=producer, registry=registry), tenants)
