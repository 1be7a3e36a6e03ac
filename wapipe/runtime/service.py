"""One startup for every consumer service: open the producer, Redis and the store, wire the service, serve
/healthz /readyz /metrics, run its workers and background tasks until SIGTERM/SIGINT, then stop fetching, finish
in-flight work, commit, and close everything, in reverse order, through one `AsyncExitStack`.

    def build(s: GuardrailsSettings, r: Resources) -> Service:
        app = build_app(s, redis=r.redis, store=r.store, producer=r.producer, registry=r.registry)
        return Service("guardrails", [app.worker])

    asyncio.run(run_consumer(s, partial(build, s), port=s.guardrails_metrics_port))
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from wapipe.redis import DEFAULT_MAX_CONNECTIONS
from wapipe.runtime.http import Check, HealthServer
from wapipe.runtime.producer import Producer
from wapipe.runtime.resources import open_producer, open_redis, open_store
from wapipe.runtime.worker import Worker
from wapipe.settings import CommonSettings
from wapipe.store import Store

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[object]]
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Runnable(Protocol):
    """Runs next to the workers until asked to stop: an HTTP server, a periodic check (a `Worker` is one too)."""

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Service:
    """What one process runs: its workers, what runs beside them, and what to close once all of it stopped."""

    name: str
    workers: Sequence[Worker]
    background: Sequence[Runnable] = ()
    closers: Sequence[Closer] = ()  # run in this order after every worker and task stopped, before the resources
    extra_ready: Check = _always  # /readyz on top of every worker being assigned (the operator API listening)

    def alive(self) -> bool:
        return all(w.alive for w in self.workers)

    def ready(self) -> bool:
        return all(w.ready for w in self.workers) and self.extra_ready()


@dataclass(frozen=True)
class Resources:
    """What `run_consumer` opened for the service's wiring; it closes them after the service stopped."""

    registry: CollectorRegistry
    producer: Producer
    redis: aioredis.Redis
    store: Store


async def run_consumer(settings: CommonSettings, build: Callable[[Resources], Service | Awaitable[Service]], *,
                       port: int,
                       host: str = "127.0.0.1", redis_max_connections: int = DEFAULT_MAX_CONNECTIONS,
                       stop: asyncio.Event | None = None, handle_signals: bool = True) -> None:
    """Open the resources, `build` the service from them and serve it until SIGTERM/SIGINT (or `stop`).

    Returns normally after a requested stop (so the process exits 0). When a worker or a background task fails,
    the rest is stopped and everything closed as well, then that failure is raised."""
    stop = stop or asyncio.Event()
    async with AsyncExitStack() as stack:
        if handle_signals:
            _stop_on_signals(stack, stop)
        producer = stack.enter_context(open_producer(settings))
        redis = await stack.enter_async_context(open_redis(settings.redis(), redis_max_connections))
        store = await stack.enter_async_context(open_store(settings.store_url))
        registry = CollectorRegistry()
        built = build(Resources(registry, producer, redis, store))
        service = await built if inspect.isawaitable(built) else built  # a build may load models first
        await _serve(stack, service, registry=registry, host=host, port=port, stop=stop)


async def serve(service: Service, *, registry: CollectorRegistry, port: int, host: str = "127.0.0.1",
                stop: asyncio.Event | None = None, handle_signals: bool = True) -> None:
    """`run_consumer` for a service wired from resources its caller owns and closes (tests, benchmarks)."""
    stop = stop or asyncio.Event()
    async with AsyncExitStack() as stack:
        if handle_signals:
            _stop_on_signals(stack, stop)
        await _serve(stack, service, registry=registry, host=host, port=port, stop=stop)


def _stop_on_signals(stack: AsyncExitStack, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("%s: stopping", sig.name)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
        stack.callback(loop.remove_signal_handler, sig)


async def _serve(stack: AsyncExitStack, service: Service, *, registry: CollectorRegistry, host: str, port: int,
                 stop: asyncio.Event) -> None:
    for close in reversed(service.closers):  # the stack unwinds last-in first-out
        stack.push_async_callback(_logged, close)
    health = HealthServer(registry, service.alive, service.ready)
    bound = await health.start(host, port)
    stack.push_async_callback(health.close)
    log.info("%s health and metrics on %s:%d", service.name, host, bound)
    await _run_until_stopped(service, stop)


async def _run_until_stopped(service: Service, stop: asyncio.Event) -> None:
    parts: list[Runnable] = [*service.workers, *service.background]
    tasks = [asyncio.create_task(p.run(), name=f"{service.name}/{type(p).__name__}") for p in parts]
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for t in done - {stopper}:
            log.warning("%s ended before a stop was asked; stopping the rest", t.get_name())
    finally:
        stopper.cancel()
        for p in parts:  # workers stop fetching, drain and commit; servers finish their requests
            await p.stop()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [(t, r) for t, r in zip(tasks, results, strict=True) if isinstance(r, BaseException)]
    for t, exc in failures:
        log.error("%s failed: %r", t.get_name(), exc)
    if failures:
        raise failures[0][1]


async def _logged(close: Closer) -> None:
    try:
        await close()
    except Exception:  # one failing closer must not keep the others (and the resources) from closing
        log.exception("shutdown step failed")
