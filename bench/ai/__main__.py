"""AI stage throughput and added latency with a slow model: one Worker, the simulator's model answering in 1 s.

    .venv/bin/python -m bench.ai [--requests 3000] [--latency 1.0] [--in-flight 512]

Real pieces end to end: Tansu broker, redis-server, SQLite store + context cache, the demo tenant, the `openai` SDK
over HTTP to the simulator (its own process). Every request is a different conversation and question (no answer
cache hits, no coalescing), so each one costs one model call.
Reports answers/s, and per answer the time the AI stage adds on top of the model call (handler time minus the
measured model call), p50/p95/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence

import httpx
from prometheus_client import CollectorRegistry

from schemas.envelope import Envelope, conversation_key, derive_id
from schemas.events import AnswerRequested, AnswerRequestedPayload, Recipient
from schemas.topics import AI_REQUESTS
from services.ai.app import build_handler
from services.ai.chain import LLMChain
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from services.ai.metrics import AIMetrics
from services.ai.providers import LLMRequest, LLMResult
from services.ai.providers.openai_compat import OpenAIProvider
from wapipe.redis import connect
from wapipe.runtime import Emit, Producer, RecordMeta
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.worker import Worker
from wapipe.store import ContextCache, open_store
from wapipe.tenants import TenantRegistry
from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local.servers import free_port, start_broker, start_redis, wait_for_port

TENANT = "100000000000001"


MODEL_TIME: contextvars.ContextVar[list[float]] = contextvars.ContextVar("model_time")


class TimedProvider(OpenAIProvider):
    """The real provider, noting each model call's duration for the request being handled (same task)."""

    async def complete(self, req: LLMRequest) -> LLMResult:
        t0 = time.perf_counter()
        try:
            return await super().complete(req)
        finally:
            MODEL_TIME.get().append(time.perf_counter() - t0)


def pct(xs: Sequence[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def start_simulator(latency: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    code = ("from wapipe_tools.simulator.serve import run; from wapipe_tools.simulator.state import SimState; "
            f"run(SimState(ingress_url=None, status_webhooks=False), port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "WAPIPE_ENV": "dev"})
    wait_for_port(port, 20)
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/_sim/llm", json={"latency_s": latency}, timeout=5).raise_for_status()
    return proc, url


async def run(bootstrap: str, redis_url: str, sim_url: str, n: int, in_flight: int) -> None:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    create_topics(bootstrap, registry_specs(prefix, 12))
    s = AISettings(env="dev", kafka_bootstrap_servers=bootstrap, topic_prefix=prefix, redis_url=redis_url,
                   openai_base_url=f"{sim_url}/v1", openai_api_key="dev-openai-key", ai_max_in_flight=in_flight,
                   llm_daily_spend_cap_usd=1e9, coalesce_window_s=0)
    redis = connect(redis_url, s.ai_redis_max_connections)
    store = open_store(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    await store.migrate()
    provider = TimedProvider(base_url=s.openai_base_url, api_key="dev-openai-key", default_model="gpt-4o-mini",
                             max_connections=in_flight)
    chain = LLMChain([provider], AIMetrics(CollectorRegistry()), circuit_failures=10**6)
    producer = Producer(bootstrap, topic_prefix=prefix)
    handler = build_handler(s, redis=redis, tenants=RegistryTenants(TenantRegistry("config/tenants")),
                            context=ContextCache(redis, store), traces=store, registry=CollectorRegistry(),
                            chain=chain)
    handler_s: list[float] = []
    model_s: list[float] = []
    added: list[float] = []
    finished: list[float] = []

    async def timed(event: Envelope, meta: RecordMeta) -> Sequence[Emit]:
        calls: list[float] = []
        MODEL_TIME.set(calls)
        t0 = time.perf_counter()
        out = await handler(event, meta)
        took = time.perf_counter() - t0
        handler_s.append(took)
        model_s.extend(calls)
        added.append(took - sum(calls))
        finished.append(time.perf_counter())
        return out

    cfg = WorkerConfig(bootstrap=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}", topics=(AI_REQUESTS,),
                       topic_prefix=prefix, service="ai", max_in_flight=in_flight)
    worker = Worker(cfg, timed, producer=producer, registry=CollectorRegistry())
    task = asyncio.create_task(worker.run())
    await worker.wait_ready(30)
    started = time.perf_counter()
    emits = []
    for i in range(n):
        user = f"57300{i:07d}"
        mid = f"wamid.bench.{prefix}{i}"
        emits.append(Emit(AI_REQUESTS, AnswerRequested(
            event_id=derive_id("bench", mid), tenant=TENANT, conversation=conversation_key(TENANT, user),
            correlation_id=mid, payload=AnswerRequestedPayload(
                message_id=mid, to=Recipient(wa_id=user), text=f"¿tienen la referencia {i} en talla 40?"))))
    await producer.publish_all(emits)
    last, idle_since = 0, time.perf_counter()
    while len(finished) < n and time.perf_counter() - idle_since < 30:  # bounded even if some end in the DLQ
        await asyncio.sleep(0.2)
        if len(finished) != last:
            last, idle_since = len(finished), time.perf_counter()
    n = len(finished)
    elapsed = max(finished) - started
    await worker.stop()
    await task
    await chain.close()
    await store.close()
    await redis.aclose()

    print(f"answers: {n} in {elapsed:.1f}s -> {n / elapsed:.0f} answers/s (one worker, max_in_flight={in_flight})")
    print(f"model call: p50 {pct(model_s, 50):.3f}s p99 {pct(model_s, 99):.3f}s")
    print(f"handler:    p50 {pct(handler_s, 50):.3f}s p99 {pct(handler_s, 99):.3f}s")
    print(f"added over the model: p50 {pct(added, 50) * 1000:.0f}ms p95 {pct(added, 95) * 1000:.0f}ms "
          f"p99 {pct(added, 99) * 1000:.0f}ms  (mean {statistics.mean(added) * 1000:.0f}ms)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--in-flight", type=int, default=512)
    a = ap.parse_args()
    broker = None if os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS") else start_broker()
    redis_server = start_redis()
    sim, sim_url = start_simulator(a.latency)
    try:
        bootstrap = os.environ.get("WAPIPE_KAFKA_BOOTSTRAP_SERVERS") or (broker.address if broker else "")
        asyncio.run(run(bootstrap, f"redis://{redis_server.address}/0", sim_url, a.requests, a.in_flight))
    finally:
        sim.terminate()
        sim.wait(10)
        redis_server.stop()
        if broker:
            broker.stop()


if __name__ == "__main__":
    main()
