"""Notifier settings: the operator API, the health/metrics port, relaying, alert rate limits and the DLQ watch."""

from __future__ import annotations

from pydantic import Field

from wapipe.settings import AdminSettings


class NotifierSettings(AdminSettings):
    notifier_host: str = Field(default="127.0.0.1", description="interface of the operator API and of /healthz "
                               "/readyz /metrics; 0.0.0.0 in containers")
    notifier_port: int = Field(default=8081, description="operator API (bearer operator token or admin token)")
    notifier_metrics_port: int = Field(default=9105, description="/healthz /readyz /metrics, not the API port")
    notifier_consumer_group: str = "wapipe-notifier"
    notifier_context_messages: int = Field(default=6, ge=0, le=20, description="last turns in a notification")
    notifier_alert_interval_s: int = Field(default=600, ge=1, description="at most one alert per tenant+code")
    notifier_relay_limit: int = Field(default=20, ge=1, description="relays per conversation per relay window")
    notifier_relay_window_s: int = Field(default=600, ge=1, description="the relay limit's sliding window")
    notifier_dlq_check_interval_s: float = Field(default=30.0, gt=0)
    notifier_max_in_flight: int = Field(default=128, ge=1)
    notifier_max_attempts: int = Field(default=5, ge=1)
