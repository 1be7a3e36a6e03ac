"""Prometheus metrics of the AI service, against an injected registry (no globals)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

CIRCUIT_STATES = {"closed": 0, "open": 1, "half_open": 2}


class AIMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.llm_calls = Counter(
            "wapipe_llm_calls_total", "Model calls by provider and outcome (ok, timeout, error_5xx, error, "
            "circuit_open)", ["provider", "outcome"], registry=registry)
        self.llm_latency = Histogram(
            "wapipe_llm_call_duration_seconds", "Latency of one model call", ["provider"], registry=registry,
            buckets=(0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13))
        self.tokens = Counter(
            "wapipe_llm_tokens_total", "Tokens reported by the model", ["tenant", "model", "kind"], registry=registry)
        self.cost = Counter("wapipe_llm_cost_usd_total", "Spend in USD from the price table", ["tenant", "model"],
                            registry=registry)
        self.cache_hits = Counter("wapipe_ai_answer_cache_total", "Answer cache lookups", ["tenant", "outcome"],
                                  registry=registry)
        self.fallbacks = Counter("wapipe_ai_fallbacks_total", "Deterministic fallback answers by reason",
                                 ["tenant", "reason"], registry=registry)
        self.circuit_state = Gauge("wapipe_llm_circuit_state", "0 closed, 1 open, 2 half-open", ["provider"],
                                   registry=registry)
        self.spend_cap_hits = Counter("wapipe_llm_spend_cap_hits_total", "Answers refused by the daily spend cap",
                                      ["tenant"], registry=registry)
        self.coalesced = Counter("wapipe_ai_coalesced_total", "Requests already covered by an earlier answer",
                                 ["tenant"], registry=registry)
        self.answers = Counter("wapipe_ai_answers_total", "Requests finished by outcome (llm, cache, fallback, "
                               "handoff, coalesced) and channel (whatsapp, api)", ["tenant", "outcome", "channel"],
                               registry=registry)
        self.answer_latency = Histogram(
            "wapipe_ai_answer_duration_seconds", "From handler start (after the coalescing wait) to the answer",
            registry=registry, buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 8, 13))
        self.tool_calls = Counter(
            "wapipe_ai_tool_calls_total", "Tool calls by tool and outcome (ok, error, timeout, refused, "
            "unknown_tool, bad_arguments)", ["tenant", "tool", "outcome"], registry=registry)
        self.tool_latency = Histogram(
            "wapipe_ai_tool_call_duration_seconds", "Latency of one tool call", ["tool"], registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5))
        self.tool_rounds = Histogram(
            "wapipe_ai_tool_rounds", "Tool rounds an answer took", registry=registry, buckets=(0, 1, 2, 3, 4, 5, 8))

    def start(self, tenants: Iterable[str]) -> None:
        """Show the known tenants' rare counters at 0 from the start: a series that appears with its first event
        has no rate until its second, so the spend-cap panels and the answer cache's hit ratio would stay empty
        (not 0) for a tenant that never hit its cap or repeated a question."""
        for tenant in tenants:
            self.spend_cap_hits.labels(tenant=tenant)
            for outcome in ("hit", "miss"):
                self.cache_hits.labels(tenant=tenant, outcome=outcome)

    def set_circuit(self, provider: str, state: str) -> None:
        self.circuit_state.labels(provider=provider).set(CIRCUIT_STATES[state])
