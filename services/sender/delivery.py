"""Send one message part exactly once: claim -> pace -> Graph API with retries by Meta code -> mark sent.

Everything it talks to is a port (`GraphPort`, `ClaimsPort`, `PacingPort`); the clock and the sleep are injectable
so the waits (busy leases, pacing, backoff, the in-doubt grace) can be driven without real time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from services.sender.graph import GraphError, GraphPort
from services.sender.metrics import SenderMetrics
from services.sender.ports import ClaimsPort, PacingPort, PartResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    pair_backoff_base_s: float = 4.0  # 131056: wait base**n seconds

    def backoff(self, attempt: int) -> float:
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)


def _ambiguous(e: GraphError) -> bool:
    """No HTTP answer after the request went out (read/write timeout, dropped connection): Meta may have
    accepted it. Pool and connect failures never reached Meta, so they are safe to retry at once."""
    return e.code is None and e.http_status is None and not any(
        k in e.title for k in ("PoolTimeout", "ConnectTimeout", "ConnectError"))


class SendsExhausted(Exception):
    """Transient failures outlasted the attempts; the runtime retries the record (sent parts are skipped)."""


class Delivery:
    """DeliveryPort over the Graph API, the send claims and the pacing buckets."""

    def __init__(self, graph: GraphPort, claims: ClaimsPort, pacer: PacingPort, metrics: SenderMetrics,
                 retry: RetryPolicy, doubt_grace_s: float = 15.0, *,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.doubt_grace_s = doubt_grace_s
        self.graph = graph
        self.claims = claims
        self.pacer = pacer
        self.metrics = metrics
        self.retry = retry
        self._sleep = sleep
        self._clock = clock

    async def send_once(self, send_id: str, tenant: str, user: str, kind: str, body: dict[str, Any], *,
                        token: str | None = None) -> PartResult:
        """The wamid of this part, sending it only if no replica has sent it before. Raises GraphError (not
        retryable here) or SendsExhausted. `token` holds the claim (a fresh one when None): an attempt that
        passes the token of an earlier attempt at the same record takes its lease back at once."""
        token = token or uuid.uuid4().hex
        while True:
            state, wamid = await self.claims.claim(send_id, token)
            if state == "sent":
                self.metrics.duplicates.labels(tenant).inc()
                return PartResult(wamid or "", 0, duplicate=True)
            if state in ("claimed", "doubt"):
                break
            # Another holder is sending it right now, or crashed holding it: wait for its lease.
            await self._sleep(0.5)
        if state == "doubt":
            wamid = await self._await_confirmation(send_id)
            if wamid is not None:
                log.info("send %s was in doubt; Meta's status confirms it went out: not sending again", send_id[:12])
                self.metrics.duplicates.labels(tenant).inc()
                await self.claims.mark_sent(send_id, wamid)
                return PartResult(wamid, 0, duplicate=True)
            log.warning("send %s in doubt and unconfirmed after %.0fs: sending", send_id[:12], self.doubt_grace_s)
        try:
            wamid, attempts = await self._send(tenant, user, kind, body, (send_id, token))
        except BaseException:
            await self.claims.release(send_id, token)
            raise
        await self.claims.mark_sent(send_id, wamid)
        return PartResult(wamid, attempts)

    async def confirm(self, send_id: str, wamid: str) -> None:
        await self.claims.confirm(send_id, wamid)

    async def _await_confirmation(self, send_id: str) -> str | None:
        """A previous holder died mid-call: give Meta's status webhook time to say whether it went out."""
        deadline = self._clock() + self.doubt_grace_s
        while True:
            wamid = await self.claims.sent_wamid(send_id)
            if wamid is not None or self._clock() >= deadline:
                return wamid
            await self._sleep(0.2)

    async def _send(self, tenant: str, user: str, kind: str, body: dict[str, Any],
                    lease: tuple[str, str]) -> tuple[str, int]:
        pair_hits = 0
        last: GraphError | None = None
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                # Renews our lease across long retries; Meta's status webhook may meanwhile have confirmed the
                # previous attempt (a timeout after Meta accepted it), in which case sending again duplicates it.
                state, sent = await self.claims.claim(*lease)
                if state == "sent":
                    return sent or "", attempt - 1
            wait = await self.pacer.reserve(tenant, user)
            self.metrics.pacing_wait.observe(wait)
            if wait > 0:
                await self._sleep(wait)  # only this conversation waits; the runtime serves the others
            started = time.perf_counter()
            await self.claims.begin(lease[0])
            try:
                wamid = await self.graph.post(tenant, body)
            except GraphError as e:
                self.metrics.sends.labels(tenant, kind, str(e.code or e.http_status or "timeout")).inc()
                last = e
                if e.action == "retry":
                    if _ambiguous(e) and (sent := await self._await_confirmation(lease[0])) is not None:
                        log.info("graph timeout but Meta's status confirms the send: not sending again")
                        return sent, attempt
                    delay = self.retry.backoff(attempt)
                    if e.code == 130429:  # the number's throughput: every conversation of it backs off
                        await self.pacer.pause(tenant, None, delay)
                    self.metrics.retries.labels(tenant, str(e.code or e.http_status or "timeout")).inc()
                    log.info("graph %s, retry %d in %.2fs", e.code or e.http_status or "timeout", attempt, delay)
                    await self._sleep(delay)
                    continue
                if e.action == "pair_limit":
                    pair_hits += 1
                    await self.pacer.pause(tenant, user, self.retry.pair_backoff_base_s ** pair_hits)
                    self.metrics.retries.labels(tenant, str(e.code)).inc()
                    continue
                raise
            finally:
                self.metrics.send_duration.labels(kind).observe(time.perf_counter() - started)
            self.metrics.sends.labels(tenant, kind, "ok").inc()
            return wamid or "", attempt
        raise SendsExhausted(f"gave up after {self.retry.attempts} attempts: {last}")

    async def mark_read(self, tenant: str, body: dict[str, Any]) -> bool:
        """Best effort: a lost read receipt or typing indicator must never hold up the answer."""
        try:
            await self.graph.post(tenant, body)
            return True
        except GraphError as e:
            log.info("mark-as-read failed (%s), answering anyway", e.code or e.http_status or "timeout")
            return False
