"""Settings shared by every service (pydantic-settings, `WAPIPE_` prefix).

Each service composes its own class from these pieces in `services/<name>/config.py` and builds it in `main()`;
nothing here is instantiated at import time.

One rule keeps one `.env` (docker compose, the local stack) from configuring two services alike by accident: every
`WAPIPE_*` name is defined in exactly one class. A setting several services must agree on is defined once here and
inherited; a service's own setting carries the service's name (`WAPIPE_GUARDRAILS_MAX_IN_FLIGHT`).
`tests/unit/test_settings_names.py` checks it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wapipe.kafka import KafkaConnection, SaslMechanism, SecurityProtocol

_PLACEHOLDER_MARKERS = ("changeme", "change-me", "placeholder", "example", "dev-", "test-", "xxx")
MIN_SECRET_LENGTH = 16


# Secrets someone else generates, whatever their length: Strimzi's KafkaUser passwords have 12 characters.
_LENGTH_EXEMPT = frozenset({"kafka_sasl_password"})


def is_placeholder(value: str, min_length: int = MIN_SECRET_LENGTH) -> bool:
    v = value.strip().lower()
    return len(v) < min_length or any(m in v for m in _PLACEHOLDER_MARKERS)


class CommonSettings(BaseSettings):
    """Broker (and how to reach it), Redis, store, logging and the production switch."""

    # hide_input_in_errors: a refused value must not print the other inputs (secrets among them) in the error.
    model_config = SettingsConfigDict(env_prefix="WAPIPE_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    production: bool = False
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = Field(default=None, description="CA bundle (PEM) that signed the brokers' "
                                              "certificates; unset: the system's CA store")
    topic_prefix: str = Field(default="", description="prefix for every topic (tests, replay sandboxes)")
    redis_url: str = "redis://127.0.0.1:16379/0"
    store_url: str = "sqlite:///.wapipe/wapipe.db"
    cassandra_contact_points: str = ""
    cassandra_keyspace: str = "wapipe"
    tenants_dir: str = "config/tenants"

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def kafka(self, bootstrap: str | None = None) -> KafkaConnection:
        """What every Kafka client of this process connects with (see `wapipe.kafka.client_config`); `bootstrap`
        names other brokers reached the same way (the CLI's --bootstrap)."""
        return KafkaConnection(bootstrap or self.kafka_bootstrap_servers, self.kafka_security_protocol,
                               self.kafka_sasl_mechanism, self.kafka_sasl_username, self.kafka_sasl_password,
                               self.kafka_ssl_ca_location)

    @field_validator("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_ca_location",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`WAPIPE_KAFKA_SASL_USERNAME=` (an empty line in .env or a ConfigMap) means "not set"."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _usable_kafka_connection(self) -> CommonSettings:
        self.kafka()  # refuses, naming the settings, SASL without credentials or a CA without TLS
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> CommonSettings:
        if not self.production:
            return self
        bad = [
            name
            for name, value in self.__dict__.items()
            if isinstance(value, SecretStr)
            and is_placeholder(value.get_secret_value(), 1 if name in _LENGTH_EXEMPT else MIN_SECRET_LENGTH)
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


class CoalesceSettings(CommonSettings):
    """The burst window: guardrails stamps `AnswerRequested.not_before = now + window` and the AI stage keeps
    waiting while messages arrive within it, so both must read the same value."""

    coalesce_window_s: float = Field(default=1.5, ge=0, description="AnswerRequested.not_before = now + this")
