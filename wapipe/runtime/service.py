"""Run a worker as a service: SIGTERM/SIGINT drain and commit, plus /healthz /readyz /metrics over HTTP."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from wapipe.runtime.worker import Worker

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[object]]
Check = Callable[[], bool]


class HealthServer:
    """A tiny HTTP/1.1 server (GET only) so Kubernetes can probe a consumer and Prometheus can scrape it."""

    def __init__(self, registry: CollectorRegistry, alive: Check, ready: Check) -> None:
        self.registry = registry
        self.alive = alive
        self.ready = ready
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            parts = request.split(b" ", 2)
            method, path = parts[0], parts[1].split(b"?")[0] if len(parts) > 1 else b"/"
            if method != b"GET":
                status, ctype, body = "405 Method Not Allowed", "text/plain", b"GET only\n"
            elif path == b"/healthz":
                ok = self.alive()
                status, ctype, body = ("200 OK" if ok else "503 Service Unavailable"), "text/plain", (
                    b"ok\n" if ok else b"consumer loop stalled\n")
            elif path == b"/readyz":
                ok = self.ready()
                status, ctype, body = ("200 OK" if ok else "503 Service Unavailable"), "text/plain", (
                    b"ready\n" if ok else b"not assigned or not connected\n")
            elif path == b"/metrics":
                status, ctype, body = "200 OK", CONTENT_TYPE_LATEST, generate_latest(self.registry)
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            head = (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n")
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve_worker(worker: Worker, *, port: int, registry: CollectorRegistry, host: str = "0.0.0.0",
                       on_shutdown: Sequence[Closer] = (), extra_ready: Check | None = None) -> None:
    """Run until SIGTERM/SIGINT, then stop fetching, drain in-flight work, commit, close; returns normally."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        log.info("%s: stopping", sig.name)
        loop.create_task(worker.stop())

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    health = HealthServer(registry, lambda: worker.alive,
                          lambda: worker.ready and (extra_ready() if extra_ready else True))
    bound = await health.start(host, port)
    log.info("%s health and metrics on :%d", worker.cfg.service, bound)
    try:
        await worker.run()
    finally:
        await health.close()
        for close in on_shutdown:
            try:
                await close()
            except Exception:  # one failing closer must not keep the others from running
                log.exception("shutdown step failed")
        worker.processor.producer.close()
