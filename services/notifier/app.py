"""Wiring: settings + Redis + store + tenants + producer -> the notifier's handler and worker, the operator API and
the periodic watchdog (one process, see `main.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from schemas.topics import DELIVERY, HANDOFF, INBOUND, STATUS, TOPICS
from services.notifier.api import create_api
from services.notifier.config import NotifierSettings
from services.notifier.dlq import DlqWatch
from services.notifier.handlers import Notifier, Tenants
from services.notifier.metrics import NotifierMetrics
from services.notifier.operator import Operators
from services.notifier.state import RedisNotifierState
from services.notifier.watchdog import Watchdog
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker, WorkerConfig
from wapipe.state.window import ServiceWindow
from wapipe.store import Store

# wa.inbound.v1 is read with the notifier's own group (guardrails has its own): the messages of HUMAN_ACTIVE
# conversations, which guardrails keeps from the bot, are relayed from here.
TOPICS_READ = (HANDOFF, DELIVERY, STATUS, INBOUND)


@dataclass
class NotifierApp:
    worker: Worker
    notifier: Notifier
    operators: Operators
    api: FastAPI
    watchdog: Watchdog
    dlq: DlqWatch


def build_app(s: NotifierSettings, *, redis: aioredis.Redis, store: Store, producer: Producer,
              tenants: Tenants, registry: CollectorRegistry, group_id: str | None = None) -> NotifierApp:
    metrics = NotifierMetrics(registry)
    state = RedisNotifierState(redis)
    notifier = Notifier(state=state, store=store, tenants=tenants, metrics=metrics,
                        context_messages=s.notifier_context_messages, alert_interval_s=s.notifier_alert_interval_s)
    cfg = WorkerConfig(bootstrap=s.kafka_bootstrap_servers, group_id=group_id or s.notifier_consumer_group,
                       topics=TOPICS_READ, topic_prefix=s.topic_prefix, service="notifier",
                       max_in_flight=s.notifier_max_in_flight, max_attempts=s.notifier_max_attempts)
    worker = Worker(cfg, notifier.handle, producer=producer, registry=registry)
    operators = Operators(state=state, store=store, tenants=tenants, publisher=producer, metrics=metrics,
                          window=ServiceWindow(redis))
    api = create_api(operators, s.admin_token.get_secret_value(), store)
    dlq = DlqWatch(s.kafka_bootstrap_servers, [t.dlq for t in TOPICS], s.topic_prefix)
    watchdog = Watchdog(dlq, state, tenants, producer, metrics, interval_s=s.notifier_dlq_check_interval_s,
                        alert_interval_s=s.notifier_alert_interval_s)
    return NotifierApp(worker, notifier, operators, api, watchdog, dlq)
