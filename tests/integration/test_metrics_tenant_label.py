"""The metrics label `tenant` is the phone_number_id in every service: messages go through ingress, guardrails, the
AI stage, the notifier and the sender (real broker, Redis, SQLite store, the simulator as Graph API and model), then
each service's registry is scraped the way Prometheus reads it."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from schemas.meta.signature import webhook_headers
from services.ai.app import build_app as build_ai
from services.ai.config import AISettings
from services.ai.knowledge import RegistryTenants
from services.guardrails.app import build_app as build_guardrails
from services.guardrails.config import GuardrailsSettings
from services.ingress.app import create_app
from services.ingress.config import IngressSettings
from services.notifier.app import build_app as build_notifier
from services.notifier.config import NotifierSettings
from services.sender.app import build_app as build_sender
from services.sender.config import SenderSettings
from tests.media_stage import media_stage
from tests.support import unique
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.store import ContextCache, ConversationStore, open_store
from wapipe.tenants import TenantRegistry
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState
from wapipe_tools.simulator.webhooks import inbound_message

pytestmark = pytest.mark.slow

TENANTS_DIR = Path(__file__).resolve().parents[2] / "config" / "tenants"
PHONE_NUMBER_ID = re.compile(r"^\d{5,20}$")
# One message per road through the pipeline: answered by guardrails, by the model, handed to a person.
MESSAGES = {"573001230001": "¿a qué hora abren?",
            "573001230002": "busco unas botas de cuero para regalar, ¿cuál me recomiendan?",
            "573001230003": "me pasas con un asesor por favor"}
# What each service must have counted (a sample with a tenant label) before its labels are checked.
EXPECTED = {"ingress": "wapipe_events_published_total", "guardrails": "wapipe_guardrails_messages_total",
            "ai": "wapipe_ai_answers_total", "notifier": "wapipe_handoffs_total", "sender": "wapipe_replies_total"}


@dataclass
class Pipeline:
    ingress: httpx.AsyncClient
    sim: BackgroundSimulator
    registries: dict[str, CollectorRegistry]


def tenant_labels(registry: CollectorRegistry) -> dict[str, set[str]]:
    """metric sample name -> the `tenant` values it carries, parsed from the Prometheus text exposition."""
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            if "tenant" in sample.labels:
                out.setdefault(sample.name, set()).add(sample.labels["tenant"])
    return out


async def _workers(stack: AsyncExitStack, *workers: Worker) -> None:
    tasks = [asyncio.create_task(w.run()) for w in workers]

    async def stop() -> None:
        for w in workers:
            await w.stop()
        await asyncio.gather(*tasks)

    stack.push_async_callback(stop)
    await asyncio.gather(*(w.wait_ready(60) for w in workers))


@pytest.fixture
async def pipeline(kafka_bootstrap: str, topic_prefix: str, redis_url: str, redis_client: aioredis.Redis,
                   tmp_path: Path) -> AsyncIterator[Pipeline]:
    conn = {"kafka_bootstrap_servers": kafka_bootstrap, "topic_prefix": topic_prefix, "redis_url": redis_url,
            "tenants_dir": str(TENANTS_DIR)}
    registries = {name: CollectorRegistry() for name in EXPECTED}
    tenants = TenantRegistry(TENANTS_DIR)
    async with AsyncExitStack() as stack:
        sim = stack.enter_context(BackgroundSimulator(SimState(ingress_url=None, status_webhooks=False,
                                                               enforce_window=False)))
        store: ConversationStore = open_store(f"sqlite:///{tmp_path}/wapipe.db")
        await store.migrate()
        stack.push_async_callback(store.close)
        producer = Producer(kafka_bootstrap, topic_prefix=topic_prefix, delivery_timeout_s=10)
        stack.callback(producer.close)

        guardrails = build_guardrails(GuardrailsSettings(**conn), redis=redis_client, store=store, producer=producer,
                                      registry=registries["guardrails"], tenants=tenants, group_id=unique("g"))
        ai = build_ai(AISettings(**conn, openai_base_url=f"{sim.url}/v1", openai_api_key="dev-openai-key",
                                 coalesce_window_s=0.2),
                      redis=redis_client, tenants=RegistryTenants(tenants), context=ContextCache(redis_client, store),
                      traces=store, producer=producer, registry=registries["ai"], group_id=unique("g"))
        stack.push_async_callback(ai.handler.d.chain.close)
        sender = build_sender(SenderSettings(**conn, graph_api_url=sim.url, meta_access_token=sim.state.access_token),
                              redis=redis_client, store=store, producer=producer, registry=registries["sender"],
                              group_id=unique("g"))
        stack.push_async_callback(sender.graph.aclose)
        notifier = build_notifier(NotifierSettings(**conn, admin_token=SecretStr("admin-token-for-the-metrics-test")),
                                  redis=redis_client, store=store, producer=producer, tenants=tenants,
                                  registry=registries["notifier"], group_id=unique("g"))
        stack.push_async_callback(notifier.dlq.close)
        media = media_stage(kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, producer=producer,
                            folder=tmp_path, group_id=unique("g"))
        stack.push_async_callback(media.close)
        await _workers(stack, media.worker, guardrails.worker, ai.worker, sender.worker, notifier.worker)

        app = create_app(IngressSettings(_env_file=None, **conn, meta_app_secret=sim.state.app_secret,  # type: ignore[call-arg]
                                         meta_verify_token="metrics-test-verify-token",
                                         api_chat_key="metrics-test-api-chat-key"),
                         producer=producer, redis=redis_client, registry=registries["ingress"])
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ingress"))
        yield Pipeline(client, sim, registries)


async def test_every_service_labels_tenant_with_the_phone_number_id(pipeline: Pipeline) -> None:
    tenant = TenantRegistry(TENANTS_DIR).get("100000000000001")
    assert tenant is not None
    for wa_id, text in MESSAGES.items():
        _, doc = inbound_message(pipeline.sim.state, phone_number_id=tenant.phone_number_id, wa_id=wa_id,
                                 profile_name="Ana", user_id=None, msg_type="text", obj={"body": text})
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        headers = webhook_headers(raw, pipeline.sim.state.app_secret)
        r = await pipeline.ingress.post("/webhook", content=raw, headers=headers)
        assert r.status_code == 200, r.text

    deadline = time.monotonic() + 90
    labels = {name: tenant_labels(reg) for name, reg in pipeline.registries.items()}
    while any(EXPECTED[name] not in labels[name] for name in EXPECTED) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        labels = {name: tenant_labels(reg) for name, reg in pipeline.registries.items()}
    missing = sorted(name for name in EXPECTED if EXPECTED[name] not in labels[name])
    assert not missing, f"no {[EXPECTED[m] for m in missing]} after the messages: {labels}"

    slugs = {t.name for t in TenantRegistry(TENANTS_DIR).all()}
    for service, samples in labels.items():
        for sample, values in samples.items():
            assert all(PHONE_NUMBER_ID.match(v) for v in values), f"{service} {sample}: tenant={values}"
            assert not values & slugs, f"{service} {sample} labels tenant with a slug: {values}"
            assert values == {tenant.phone_number_id}, f"{service} {sample}: tenant={values}"
    assert "wapipe_guardrails_decision_duration_seconds_count" in labels["guardrails"]  # the guardrails slug lines
