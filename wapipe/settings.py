"""Settings shared by every service (pydantic-settings, `WAPIPE_` prefix).

Each service composes its own class from these pieces in `services/<name>/config.py` and builds it in `main()`;
nothing here is instantiated at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example", "dev-", "test-", "xxx")
MIN_SECRET_LENGTH = 16


def is_placeholder(value: str) -> bool:
    v = value.strip().lower()
    return len(v) < MIN_SECRET_LENGTH or any(m in v for m in _PLACEHOLDER_MARKERS)


class CommonSettings(BaseSettings):
    """Broker, Redis, store, logging and the production switch."""

    model_config = SettingsConfigDict(env_prefix="WAPIPE_", env_file=".env", extra="ignore")

    production: bool = False
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = Field(default="", description="prefix for every topic (tests, replay sandboxes)")
    redis_url: str = "redis://127.0.0.1:16379/0"
    store_url: str = "sqlite:///.wapipe/wapipe.db"
    cassandra_contact_points: str = ""
    cassandra_keyspace: str = "wapipe"
    tenants_dir: str = "config/tenants"

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> CommonSettings:
        if not self.production:
            return self
        bad = [
            name
            for name, value in self.__dict__.items()
            if isinstance(value, SecretStr) and is_placeholder(value.get_secret_value())
        ]
        if bad:
            env = ", ".join(f"WAPIPE_{n.upper()}" for n in sorted(bad))
            raise ValueError(f"placeholder or too-short secrets refused in production: {env}")
        return self


class MetaSettings(CommonSettings):
    """What talking to Meta needs: webhook secrets and the Graph API."""

    meta_app_secret: SecretStr = SecretStr("dev-app-secret-not-for-production")
    meta_verify_token: SecretStr = SecretStr("dev-verify-token")
    meta_access_token: SecretStr = SecretStr("dev-access-token")
    graph_api_url: str = "http://127.0.0.1:8090"
    graph_api_version: str = "v25.0"


class LLMSettings(CommonSettings):
    """The model provider."""

    llm_provider: Literal["openai", "bedrock", "none"] = "openai"
    openai_api_key: SecretStr = SecretStr("dev-openai-key")
    openai_base_url: str = "http://127.0.0.1:8090/v1"
    openai_model: str = "gpt-4o-mini"
    bedrock_region: str = "us-east-1"
    bedrock_model: str = "anthropic.claude-3-haiku-20240307-v1:0"


class AdminSettings(CommonSettings):
    admin_token: SecretStr = SecretStr("dev-admin-token")
