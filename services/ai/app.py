"""Wiring: settings + Redis + store + tenants + providers -> the AI handler, and the worker that runs it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.topics import read_by
from services.ai.cache import AnswerCache
from services.ai.chain import LLMChain
from services.ai.coalesce import PendingBuffer
from services.ai.config import AISettings
from services.ai.cost import PriceTable, SpendLedger
from services.ai.handlers import AIDeps, AIHandler, ContextSource, TraceWriter
from services.ai.http_tools import HttpTools
from services.ai.metrics import AIMetrics
from services.ai.ports import ToolPort
from services.ai.providers import Provider
from services.ai.tenant import TenantSource
from services.ai.tools import CatalogPort, ToolBox
from services.ai.toolspec import NO_TOOLS
from wapipe.runtime.config import WorkerConfig
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker
from wapipe.state.answers import Answers


def make_provider(kind: str, s: AISettings) -> Provider:
    if kind == "openai":
        from services.ai.providers.openai_compat import OpenAIProvider

        return OpenAIProvider(base_url=s.openai_base_url, api_key=s.openai_api_key.get_secret_value(),
                              default_model=s.openai_model, timeout_s=s.llm_total_budget_s,
                              max_connections=s.ai_max_in_flight)
    if kind == "bedrock":
        from services.ai.providers.bedrock import BedrockProvider, make_client

        return BedrockProvider(make_client(s.bedrock_region, s.llm_total_budget_s), s.bedrock_model)
    raise ValueError(f"unknown provider {kind!r}")


def default_models(s: AISettings) -> list[str]:
    """The models the chain's providers use when a tenant names none (the spend reservation prices them)."""
    named = {"openai": s.openai_model, "bedrock": s.bedrock_model}
    return [named[k] for k in (s.llm_provider, s.llm_secondary) if k in named]


def make_chain(s: AISettings, metrics: AIMetrics) -> LLMChain:
    kinds = [k for k in dict.fromkeys((s.llm_provider, s.llm_secondary)) if k != "none"]
    return LLMChain([make_provider(k, s) for k in kinds], metrics, retries_on_5xx=s.llm_retries_on_5xx,
                    total_budget_s=s.llm_total_budget_s, circuit_failures=s.llm_circuit_failures,
                    circuit_cooldown_s=s.llm_circuit_cooldown_s)


def make_tools(s: AISettings, catalog: CatalogPort | None, http: httpx.AsyncClient | None) -> ToolBox:
    """The tool box: the catalog's tools when a catalog is wired, the tenants' HTTP tools over `http`."""
    tools = HttpTools(http, dev=s.dev, bases=s.ai_tool_base_urls, secrets=s.tool_secrets()) \
        if http is not None else None
    return ToolBox(catalog, tools, catalog_timeout_s=s.ai_tool_catalog_timeout_s)


def build_handler(s: AISettings, *, redis: aioredis.Redis, tenants: TenantSource, context: ContextSource,
                  traces: TraceWriter, registry: CollectorRegistry, chain: LLMChain | None = None,
                  tools: ToolPort | None = None) -> AIHandler:
    metrics = AIMetrics(registry)
    return AIHandler(AIDeps(
        tenants=tenants, context=context, traces=traces, chain=chain or make_chain(s, metrics),
        cache=AnswerCache(redis, s.answer_cache_ttl_s), ledger=SpendLedger(redis),
        prices=PriceTable(s.llm_prices, s.llm_default_price, default_models=default_models(s)),
        buffer=PendingBuffer(redis, window_s=s.coalesce_window_s, max_wait_s=s.coalesce_max_wait_s),
        metrics=metrics, answers=Answers(redis), tools=tools or NO_TOOLS,
        default_spend_cap_usd=s.llm_daily_spend_cap_usd, input_max_chars=s.llm_input_max_chars,
        answer_budget_s=s.ai_answer_budget_s))


@dataclass
class AIApp:
    handler: AIHandler
    worker: Worker


def build_app(s: AISettings, *, redis: aioredis.Redis, tenants: TenantSource, context: ContextSource,
              traces: TraceWriter, producer: Producer, registry: CollectorRegistry,
              chain: LLMChain | None = None, tools: ToolPort | None = None,
              group_id: str = "wapipe-ai") -> AIApp:
    handler = build_handler(s, redis=redis, tenants=tenants, context=context, traces=traces, registry=registry,
                            chain=chain, tools=tools)
    cfg = WorkerConfig(bootstrap=s.kafka(), group_id=group_id, topics=read_by("ai"),
                       topic_prefix=s.topic_prefix, service="ai", max_in_flight=s.ai_max_in_flight,
                       max_attempts=s.ai_max_attempts,
                       batch_wait_s=s.kafka_batch_wait_ms / 1000)
    return AIApp(handler, Worker(cfg, handler, producer=producer, registry=registry))
