"""Guardrails settings (WAPIPE_ prefix): limits, windows and where the tenant files are."""

from __future__ import annotations

from pydantic import Field

from wapipe.settings import CoalesceSettings


class GuardrailsSettings(CoalesceSettings):
    guardrails_host: str = Field(default="127.0.0.1", description="interface of /healthz /readyz /metrics; "
                                 "0.0.0.0 in containers")
    guardrails_metrics_port: int = 9102  # /healthz /readyz /metrics (prefixed: one .env serves every service)
    guardrails_consumer_group: str = "wapipe-guardrails"
    guardrails_max_in_flight: int = Field(default=256, ge=1)
    guardrails_max_attempts: int = Field(default=5, ge=1)
    flood_limit: int = Field(default=20, ge=1, description="messages per customer per flood window")
    flood_window_s: float = Field(default=60.0, gt=0)
    dedupe_ttl_s: int = Field(default=7 * 24 * 3600, ge=60)
    human_active_ttl_s: int = Field(default=12 * 3600, ge=60)
    pending_ttl_s: int = Field(default=300, ge=10)
    tenants_reload_s: float = Field(default=3.0, ge=0)
