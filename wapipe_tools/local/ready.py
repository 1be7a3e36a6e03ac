"""The one readiness wait of the local stack: poll a condition (a TCP port, a health URL, every child's /readyz)
until it holds, something says it never will, or a deadline passes. Used by `wapipe up`, the benchmarks and tests."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx


class NotReady(TimeoutError):
    """The condition did not hold in time, or a process it depends on gave up (the message says which)."""


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2,
               gave_up: Callable[[], str | None] | None = None) -> float:
    """Call `check` every `interval` seconds until it returns True; returns the seconds waited.

    `gave_up` is asked after each failed check: a non-empty answer (e.g. "ingress exited (1)") ends the wait at
    once instead of at the deadline. Raises NotReady naming `what`.
    """
    started = time.monotonic()
    deadline = started + timeout
    while True:
        if check():
            return time.monotonic() - started
        reason = gave_up() if gave_up is not None else None
        if reason:
            raise NotReady(f"{reason} while waiting for {what}")
        if time.monotonic() > deadline:
            raise NotReady(f"waited {timeout:.0f}s for {what}")
        time.sleep(interval)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), 0.5).close()
    except OSError:
        return False
    return True


def http_ok(url: str, client: httpx.Client | None = None) -> bool:
    """True when `url` answers 200 (a /healthz or /readyz); any transport error is "not yet"."""
    try:
        if client is not None:
            return client.get(url).status_code == 200
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1",
                  gave_up: Callable[[], str | None] | None = None) -> float:
    return wait_until(lambda: port_open(port, host), timeout=timeout, what=f"a listener on {host}:{port}",
                      interval=0.05, gave_up=gave_up)


def wait_for_http(url: str, timeout: float = 30.0, gave_up: Callable[[], str | None] | None = None) -> float:
    return wait_until(lambda: http_ok(url), timeout=timeout, what=f"{url} to answer 200", gave_up=gave_up)
