"""Ingress settings: Meta's webhook secrets plus the HTTP server, /api/chat and publish bounds."""

from __future__ import annotations

from pydantic import Field, SecretStr

from wapipe.settings import MetaSettings

MIB = 1024 * 1024
DEMO_TENANT = "100000000000001"


class IngressSettings(MetaSettings):
    ingress_host: str = Field(default="127.0.0.1", description="0.0.0.0 in containers")
    ingress_port: int = 8080
    ingress_metrics_port: int = 9101
    ingress_max_body_bytes: int = Field(default=3 * MIB, gt=0, description="larger webhook bodies get 413")
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
