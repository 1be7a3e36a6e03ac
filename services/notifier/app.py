"""Wiring: settings + Redis + store + tenants + producer -> the notifier's handler and worker, the operator API and
the periodic watchdog, and the one process that runs them together (`service`, started by `main.py`)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from schemas.topics import TOPICS, read_by
from services.notifier.api import create_api
from services.notifier.config import NotifierSettings
from services.notifier.dlq import DlqWatch
from services.notifier.handlers import Notifier, Tenants
from services.notifier.metrics import NotifierMetrics
from services.notifier.operator import Operators
from services.notifier.state import RedisNotifierState
from services.notifier.watchdog import Watchdog
from wapipe.privacy import Privacy
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.http import HttpServer
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import Service
from wapipe.runtime.skip import Skip
from wapipe.runtime.worker import Worker
from wapipe.state.window import ServiceWindow
from wapipe.store import Store

# What the handler returns nothing for, finished by header without decoding: every delivery status but a failure
# (three per reply) and every sent reply. tests/unit/notifier/test_skip.py holds the handler to it.
SKIP = Skip(types=frozenset({"ReplySent"}), unless={"StatusReceived": ("status", frozenset({b"failed"}))})


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
                        context_messages=s.notifier_context_messages, alert_interval_s=s.notifier_alert_interval_s,
                        relay_limit=s.notifier_relay_limit, relay_window_s=s.notifier_relay_window_s)
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id or s.notifier_consumer_group,
                       topics=read_by("notifier"), topic_prefix=s.topic_prefix, service="notifier",
                       max_in_flight=s.notifier_max_in_flight, max_attempts=s.notifier_max_attempts, skip=SKIP,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    worker = Worker(cfg, notifier.handle, producer=producer, registry=registry)
    operators = Operators(state=state, store=store, tenants=tenants, publisher=producer, metrics=metrics,
                          window=ServiceWindow(redis))
    api = create_api(operators, s.admin_token.get_secret_value(), store,
                     privacy=(Privacy(store, redis), tenants), accounts=store)
    dlq = DlqWatch(s.kafka(), [t.dlq for t in TOPICS], s.topic_prefix)
    watchdog = Watchdog(dlq, state, tenants, producer, metrics, interval_s=s.notifier_dlq_check_interval_s,
                        alert_interval_s=s.notifier_alert_interval_s)
    return NotifierApp(worker, notifier, operators, api, watchdog, dlq)


def service(app: NotifierApp, *, host: str, api_port: int) -> Service:
    """Worker, operator API and watchdog in one process, ready once the worker is assigned and the API listens;
    the DLQ watch's consumer is closed after all three stopped."""
    api = HttpServer(app.api, host=host, port=api_port)
    return Service("notifier", [app.worker], background=[api, app.watchdog], closers=[app.dlq.close],
                   extra_ready=lambda: api.started)
