"""HTTP next to a consumer: the health and metrics server every consumer process runs, and an ASGI app (the
notifier's operator API) served by uvicorn as one of the process's background tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from contextlib import contextmanager

import uvicorn
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.types import ASGIApp

Check = Callable[[], bool]

# What every FastAPI app of wapipe passes as `telemetry=`. wapipe reports through Prometheus and the event trace,
# never OpenTelemetry; left on, FastAPI asks OpenTelemetry for its providers on every request (an environment
# read each time), about 4 % of the ingress's CPU per webhook.
NO_OTEL: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


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


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the process stops its API together with its workers."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """An ASGI app on uvicorn, run and stopped like a worker (`run`, `stop`); in-flight requests finish first."""

    def __init__(self, app: ASGIApp, *, host: str, port: int, graceful_s: int = 10) -> None:
        self._server = _Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off",
                                              timeout_graceful_shutdown=graceful_s))

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    async def run(self) -> None:
        await self._server.serve()

    async def stop(self) -> None:
        self._server.should_exit = True
