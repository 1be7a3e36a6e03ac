"""Settings of the AI service (`WAPIPE_` prefix); built in `main()`, never at import time."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from wapipe.settings import CoalesceSettings, LLMSettings

# USD per 1M tokens (input, output). Override with WAPIPE_LLM_PRICES='{"model": [in, out]}'.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "anthropic.claude-3-haiku-20240307-v1:0": (0.25, 1.25),
    "anthropic.claude-3-5-haiku-20241022-v1:0": (0.80, 4.00),
}


class AISettings(LLMSettings, CoalesceSettings):
    """Provider chain, limits, caches, coalescing and the runtime bounds of the AI consumer."""

    ai_host: str = Field(default="127.0.0.1", description="interface of /healthz /readyz /metrics; 0.0.0.0 in "
                         "containers")
    ai_metrics_port: int = 9103  # /healthz /readyz /metrics (names prefixed: one .env serves every service)
    ai_consumer_group: str = "wapipe-ai"  # replay sandboxes run their own group
    ai_max_in_flight: int = 512
    ai_max_attempts: int = 5
    ai_redis_max_connections: int = 64  # shared by every answer in flight; requests queue for a connection
    llm_secondary: Literal["openai", "bedrock", "none"] = "none"
    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    llm_default_price: tuple[float, float] = (1.0, 3.0)  # unknown models are never free
    llm_total_budget_s: float = 12.0  # whole chain, every provider and retry included
    llm_retries_on_5xx: int = 1
    llm_circuit_failures: int = 5
    llm_circuit_cooldown_s: float = 30.0
    llm_input_max_chars: int = 1200
    llm_daily_spend_cap_usd: float = 20.0  # per tenant, when the tenant sets none
    answer_cache_ttl_s: int = 6 * 3600
    coalesce_max_wait_s: float = 4.0
    ai_answer_budget_s: float = Field(default=20.0, gt=0, description="the whole answer: every model round and "
                                      "tool call (the tenant's tools.max_rounds bounds the rounds)")
    ai_tool_catalog_timeout_s: float = Field(default=3.0, gt=0, description="one catalog search or lookup")
    ai_tool_base_urls: dict[str, str] = Field(default_factory=dict, description="what `${name}` stands for at the "
                                              "start of a tenant HTTP tool's URL (JSON object)")
    ai_tool_secrets: SecretStr | None = Field(default=None, description="values of tenant HTTP tools' headers by "
                                              "the key their `header.secret` names: a JSON object of strings")

    @field_validator("ai_tool_secrets")
    @classmethod
    def _secrets_object(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            try:
                doc = json.loads(v.get_secret_value())
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not all(isinstance(x, str) for x in doc.values()):
                raise ValueError("WAPIPE_AI_TOOL_SECRETS must be a JSON object of strings")  # never the value
        return v

    def tool_secrets(self) -> dict[str, str]:
        raw = self.ai_tool_secrets.get_secret_value() if self.ai_tool_secrets is not None else "{}"
        return {str(k): str(v) for k, v in json.loads(raw).items()}

    def providers(self) -> set[str]:
        return {self.llm_provider, self.llm_secondary}
