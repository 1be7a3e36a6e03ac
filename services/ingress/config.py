"""Ingress settings: Meta's webhook secrets plus the HTTP server, /api/chat and publish bounds."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from schemas.topics import RAW_RECORD_MAX_BYTES
from wapipe.settings import WebhookSettings

MIB = 1024 * 1024
DEMO_TENANT = "100000000000001"


class IngressSettings(WebhookSettings):
    ingress_host: str = Field(default="127.0.0.1", description="0.0.0.0 in containers")
    ingress_port: int = 8080
    ingress_metrics_port: int = 9101
    ingress_max_body_bytes: int = Field(default=3 * MIB, gt=0, le=RAW_RECORD_MAX_BYTES - 64 * 1024,
                                        description="larger webhook bodies get 413; each accepted one is a record "
                                        "of the raw webhook log, whose records are at most 4 MiB")
    ingress_max_updates: int = Field(default=1000, gt=0, description="messages + statuses per webhook; more -> 413")
    ingress_body_read_timeout_s: float = Field(
        default=10.0, gt=0, description="a webhook body not received in full by then -> 408, connection closed")
    ingress_max_body_bytes_in_flight: int = Field(
        default=32 * 3 * MIB, gt=0, description="webhook body bytes held at once per process, reserved by "
        "Content-Length before reading (chunked: the size limit); what does not fit -> 503 unread")
    ingress_max_connections: int = Field(
        default=1000, gt=0, description="uvicorn limit_concurrency: open connections or requests; more -> 503")
    ingress_publish_timeout_s: float = Field(default=5.0, gt=0, description="broker silent this long -> 503")
    ingress_linger_ms: int = Field(default=0, ge=0, description="producer batching delay; 0 = lowest latency")
    ingress_ready_cache_s: float = Field(default=2.0, ge=0, description="how long a /readyz probe result is reused")
    api_chat_key: SecretStr = SecretStr("dev-api-chat-key")
    api_chat_wait_s: float = Field(default=10.0, ge=0, description="how long /api/chat waits for the reply")
    api_chat_rate_per_min: int = Field(default=30, gt=0, description="/api/chat requests per conversation")
    api_chat_default_tenant: str = DEMO_TENANT
    ingress_api_chat_rate_per_tenant_per_min: int = Field(default=600, gt=0,
                                                          description="/api/chat requests per tenant")
    ingress_api_chat_rate_per_key_per_min: int = Field(default=1200, gt=0,
                                                       description="/api/chat requests per bearer key")

    @model_validator(mode="after")
    def _a_full_size_body_fits(self) -> IngressSettings:
        if self.ingress_max_body_bytes_in_flight < self.ingress_max_body_bytes:
            raise ValueError("WAPIPE_INGRESS_MAX_BODY_BYTES_IN_FLIGHT is below WAPIPE_INGRESS_MAX_BODY_BYTES: "
                             "a body of the allowed size could never be read")
        return self
