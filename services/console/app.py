"""Wiring: settings + Redis + store + tenants + producer -> the console's live-feed worker and its web app, and the
one process that runs them together (`service`, started by `main.py`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from schemas.topics import read_by
from services.console.auth import Auth
from services.console.config import ConsoleSettings
from services.console.inbox import Inbox
from services.console.lockout import Limits, LoginLimiter
from services.console.media import RedisMediaCards
from services.console.metrics import ConsoleMetrics
from services.console.notes import Notes
from services.console.session import Sessions
from services.console.store_redis import RedisInbox
from services.console.tokens import PersonalTokens
from services.console.views import Views
from services.console.web import ConsoleDeps, create_console
from services.notifier.metrics import NotifierMetrics
from services.notifier.operator import Operators, Publisher, TenantLookup
from services.notifier.state import RedisNotifierState
from wapipe.accounts import new_account
from wapipe.objectstore.factory import open_object_store
from wapipe.objectstore.port import ObjectStore
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.http import HttpServer
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import Service
from wapipe.runtime.worker import Worker
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import OperatorEvent, Store

log = logging.getLogger(__name__)


@dataclass
class ConsoleApp:
    worker: Worker
    web: FastAPI
    deps: ConsoleDeps


def build_object_store(s: ConsoleSettings) -> ObjectStore:
    """The media stage's object store (same settings), which the console only reads."""
    return open_object_store(s.media_store, folder=s.media_dir, bucket=s.media_s3_bucket,
                             endpoint_url=s.media_s3_endpoint_url or None, region=s.media_s3_region,
                             retention=timedelta(days=s.media_retention_days))


def console_deps(s: ConsoleSettings, *, redis: aioredis.Redis, store: Store, publisher: Publisher,
                 tenants: TenantLookup, registry: CollectorRegistry,
                 objects: ObjectStore | None = None) -> ConsoleDeps:
    """Everything the web app needs; `publisher` is where replies go (the producer, onto wa.outbound.v1);
    `objects` the media stage's object store (built from the settings when not given)."""
    metrics = ConsoleMetrics(registry)
    inbox = RedisInbox(redis)
    cards = RedisMediaCards(redis)
    operators = Operators(state=RedisNotifierState(redis), store=store, tenants=tenants, publisher=publisher,
                          metrics=NotifierMetrics(registry), window=ServiceWindow(redis),
                          ttl_s=s.console_human_active_ttl_s)
    limiter = LoginLimiter(redis, Limits(s.console_login_max_failures, s.console_login_window_s,
                                         s.console_lockout_s))
    sessions = Sessions(s.console_session_secret.get_secret_value().encode(), s.console_session_ttl_s)
    return ConsoleDeps(auth=Auth(store, limiter, sessions, metrics),
                       views=Views(ShadowMode(redis), inbox, store, cards),
                       inbox=inbox, operators=operators, notes=Notes(store), tenants=tenants, metrics=metrics,
                       secure_cookies=s.secure_cookies, tokens=PersonalTokens(store),
                       default_lang=s.console_language, cards=cards,
                       objects=objects if objects is not None else build_object_store(s))


def build_app(s: ConsoleSettings, *, redis: aioredis.Redis, store: Store, producer: Producer,
              tenants: TenantLookup, registry: CollectorRegistry, group_id: str | None = None,
              objects: ObjectStore | None = None) -> ConsoleApp:
    deps = console_deps(s, redis=redis, store=store, publisher=producer, tenants=tenants, registry=registry,
                        objects=objects)
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id or s.console_consumer_group,
                       topics=read_by("console"), topic_prefix=s.topic_prefix, service="console",
                       max_in_flight=s.console_max_in_flight, max_attempts=s.console_max_attempts,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    worker = Worker(cfg, Inbox(deps.inbox, store, deps.cards).handle, producer=producer, registry=registry)
    return ConsoleApp(worker, create_console(deps), deps)


async def ensure_dev_operator(s: ConsoleSettings, store: Store) -> None:
    """Dev only (the settings refuse it elsewhere): the local stack's admin account from `.env.example`, created
    once; an existing account of that name is left as it is."""
    if not (s.dev and s.console_dev_operator and s.console_dev_password is not None):
        return
    if await store.operator_account(s.console_dev_operator) is not None:
        return
    account = new_account(s.console_dev_operator, "admin", [], s.console_dev_password.get_secret_value())
    await store.put_operator_account(account)
    await store.append_operator_event(OperatorEvent(datetime.now(UTC), account.name, "added", "dev", "admin *"))
    log.info("console: dev operator %s added (admin)", account.name)


def service(app: ConsoleApp, *, host: str, port: int) -> Service:
    """Live-feed worker and web app in one process, ready once the worker is assigned and the app listens."""
    web = HttpServer(app.web, host=host, port=port, graceful_s=3)
    return Service("console", [app.worker], background=[web], extra_ready=lambda: web.started)
