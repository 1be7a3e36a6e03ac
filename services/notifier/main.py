"""`wapipe run notifier` / `python -m services.notifier`: one process with the consumer worker, the operator API
(uvicorn on 8081, bearer token) and /healthz /readyz /metrics on 9105 (metrics never on the operator port)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Generator, Sequence
from contextlib import contextmanager

import uvicorn
from prometheus_client import CollectorRegistry

from services.notifier.app import NotifierApp, build_app
from services.notifier.config import NotifierSettings
from wapipe.logging import configure_logging
from wapipe.redis import connect
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import HealthServer
from wapipe.store import open_store
from wapipe.tenants import TenantRegistry

log = logging.getLogger(__name__)


class _ApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: this process stops the worker and the API together."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(app: NotifierApp, *, host: str, api_port: int, metrics_port: int, registry: CollectorRegistry,
                stop: asyncio.Event | None = None, handle_signals: bool = True,
                on_shutdown: Sequence[Callable[[], Awaitable[object]]] = ()) -> None:
    """Run worker, API, watchdog and health server until `stop` is set or SIGTERM/SIGINT; then drain the worker
    (commit), stop the API (in-flight requests finish) and close everything."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    api = _ApiServer(uvicorn.Config(app.api, host=host, port=api_port, log_config=None, lifespan="off",
                                    timeout_graceful_shutdown=10))
    health = HealthServer(registry, lambda: app.worker.alive, lambda: app.worker.ready and api.started)
    await health.start(host, metrics_port)
    tasks = [asyncio.create_task(app.worker.run(), name="worker"), asyncio.create_task(api.serve(), name="api"),
             asyncio.create_task(app.watchdog.run(), name="watchdog")]
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            if t is not stopper and t.exception() is not None:
                log.error("notifier %s failed: %r", t.get_name(), t.exception())
    finally:
        stopper.cancel()
        await app.worker.stop()
        await app.watchdog.stop()
        api.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        await health.close()
        await app.dlq.close()
        for close in on_shutdown:
            try:
                await close()
            except Exception:  # one failing closer must not keep the others from running
                log.exception("shutdown step failed")
        app.worker.processor.producer.close()


async def run(s: NotifierSettings) -> None:
    registry = CollectorRegistry()
    redis = connect(s.redis_url)
    store = open_store(s.store_url)
    await store.migrate()
    producer = Producer(s.kafka(), topic_prefix=s.topic_prefix)
    app = build_app(s, redis=redis, store=store, producer=producer, tenants=TenantRegistry(s.tenants_dir),
                    registry=registry)
    log.info("notifier: operator API on :%d, health and metrics on :%d", s.notifier_port, s.notifier_metrics_port)
    await serve(app, host=s.notifier_host, api_port=s.notifier_port, metrics_port=s.notifier_metrics_port,
                registry=registry, on_shutdown=[store.close, redis.aclose])


def main() -> None:
    s = NotifierSettings()
    configure_logging("notifier", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run(s))


if __name__ == "__main__":
    main()
