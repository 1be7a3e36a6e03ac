"""Settings shared by every service (pydantic-settings, `WAPIPE_` prefix).

Each service composes its own class from these pieces in `services/<name>/config.py` and builds it in `main()`;
nothing here is instantiated at import time.

One rule keeps one `.env` (docker compose, the local stack) from configuring two services alike by accident: every
`WAPIPE_*` name is defined in exactly one class. A setting several services must agree on is defined once here and
inherited; a service's own setting carries the service's name (`WAPIPE_GUARDRAILS_MAX_IN_FLIGHT`).
`tests/unit/test_settings_names.py` checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from wapipe.kafka import KafkaConnection, SaslMechanism, SecurityProtocol
from wapipe.redis import RedisConnection
from wapipe.secret_strength import weakness
from wapipe.settings_files import FileSettingsSource

if TYPE_CHECKING:
    from wapipe.catalog.embeddings import OpenAIEmbedder

Env = Literal["production", "dev"]
# Credentials their provider generates, whatever their length (Strimzi's KafkaUser passwords have 12 characters,
# a Redis chart's generated password 10): checked for development and placeholder values only.
_LENGTH_EXEMPT = frozenset({"kafka_sasl_password", "redis_password", "redis_url"})


class CommonSettings(BaseSettings):
    """Dev or production, broker (and how to reach it), Redis, store and logging.

    Production unless `WAPIPE_ENV=dev` says otherwise: outside dev mode every secret setting must look real (no
    value of `.env.example`, no placeholder, at least 32 characters of some variety), so saying nothing can never
    start a service on the public development secrets. Only the local stack, the tests and the simulator are dev.
    Any setting can also come from a file: `WAPIPE_<NAME>_FILE=/path` (`wapipe/settings_files.py`)."""

    # hide_input_in_errors: a refused value must not print the other inputs (secrets among them) in the error.
    model_config = SettingsConfigDict(env_prefix="WAPIPE_", env_file=".env", extra="ignore",
                                      hide_input_in_errors=True)

    env: Env = Field(default="production", description="dev only for the local stack, tests and the simulator")
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    event_loop: Literal["asyncio", "uvloop"] = Field(
        default="uvloop", description="uvloop: libuv's loop, in C (and uvicorn's httptools parser in ingress); "
        "asyncio: the standard library's (and h11); docs/benchmarks.md compares the two")
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_location: str | None = Field(default=None, description="CA bundle (PEM) that signed the brokers' "
                                              "certificates; unset: the system's CA store")
    kafka_batch_wait_ms: int = Field(default=10, ge=0, le=1000, description="after a consumer's first record, "
                                     "how long it gathers more before handing them over together: fewer, larger "
                                     "batches downstream for that much latency per hop (docs/benchmarks.md)")
    topic_prefix: str = Field(default="", description="prefix for every topic (tests, replay sandboxes)")
    redis_url: str = Field(default="redis://127.0.0.1:16379/0", description="redis:// or rediss:// (TLS); may "
                           "carry user:password, or use the two settings below")
    redis_username: str | None = Field(default=None, description="Redis ACL user (with redis_password)")
    redis_password: SecretStr | None = None
    redis_autopipeline: bool = Field(default=True, description="single-reply commands share one connection and go "
                                     "out together (`wapipe.redis_mux`); false: each takes a pooled connection")
    store_url: str = "sqlite:///.wapipe/wapipe.db"
    catalog_embeddings_model: str = Field(default="", description="embeddings model for hybrid catalog search "
                                          "(OpenAI-compatible /v1/embeddings); empty: lexical search only")
    catalog_embeddings_base_url: str = "http://127.0.0.1:8090/v1"
    catalog_embeddings_api_key: SecretStr | None = None
    cassandra_contact_points: str = ""
    cassandra_keyspace: str = "wapipe"
    tenants_dir: str = "config/tenants"

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """`WAPIPE_<NAME>_FILE` ranks with the environment: above `.env`, below explicit arguments."""
        return init_settings, env_settings, FileSettingsSource(settings_cls), dotenv_settings, file_secret_settings

    @property
    def dev(self) -> bool:
        return self.env == "dev"

    @property
    def production(self) -> bool:
        return not self.dev

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def kafka(self, bootstrap: str | None = None) -> KafkaConnection:
        """What every Kafka client of this process connects with (see `wapipe.kafka.client_config`); `bootstrap`
        names other brokers reached the same way (the CLI's --bootstrap)."""
        return KafkaConnection(bootstrap or self.kafka_bootstrap_servers, self.kafka_security_protocol,
                               self.kafka_sasl_mechanism, self.kafka_sasl_username, self.kafka_sasl_password,
                               self.kafka_ssl_ca_location)

    def redis(self) -> RedisConnection:
        """What every Redis client of this process connects with (`wapipe.redis.connect`)."""
        return RedisConnection(self.redis_url, self.redis_username, self.redis_password, self.redis_autopipeline)

    @field_validator("env", mode="before")
    @classmethod
    def _env_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_ca_location",
                     "redis_username", "redis_password", "catalog_embeddings_api_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`WAPIPE_KAFKA_SASL_USERNAME=` (an empty line in .env or a ConfigMap) means "not set"."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _usable_kafka_connection(self) -> CommonSettings:
        self.kafka()  # refuses, naming the settings, SASL without credentials or a CA without TLS
        return self

    @model_validator(mode="after")
    def _usable_redis_connection(self) -> CommonSettings:
        self.redis().check()  # refuses, naming the settings, a password given twice or a user without one
        return self

    def catalog_embedder(self) -> OpenAIEmbedder | None:
        """The embeddings client of hybrid catalog search, or None (lexical only) when no model is set."""
        if not self.catalog_embeddings_model:
            return None
        from wapipe.catalog.embeddings import OpenAIEmbedder

        key = self.catalog_embeddings_api_key.get_secret_value() if self.catalog_embeddings_api_key else "unused"
        return OpenAIEmbedder(self.catalog_embeddings_model, self.catalog_embeddings_base_url, key)

    def _secrets_in_use(self) -> dict[str, str]:
        """Setting name -> value of every secret this process will use (a service's class drops the ones its
        choices leave unused, such as the OpenAI key under `WAPIPE_LLM_PROVIDER=bedrock`)."""
        found = {name: value.get_secret_value() for name, value in self.__dict__.items()
                 if isinstance(value, SecretStr)}
        url_password = urlsplit(self.redis_url).password
        if url_password is not None:
            found["redis_url"] = unquote(url_password)
        return found

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> CommonSettings:
        if self.dev:
            return self
        bad = []
        for name, value in sorted(self._secrets_in_use().items()):
            why = weakness(value, length_exempt=name in _LENGTH_EXEMPT)
            if why is None:
                continue
            if name not in self.model_fields_set and name != "redis_url":
                why = "not set (the built-in value is for development only)"
            owner = "the password in WAPIPE_REDIS_URL" if name == "redis_url" else f"WAPIPE_{name.upper()}"
            bad.append(f"{owner} is {why}")
        if bad:
            raise ValueError(f"outside dev mode these secrets are refused: {'; '.join(bad)} (WAPIPE_ENV=dev is for "
                             "the local stack, the tests and the simulator only)")
        return self


class WebhookSettings(CommonSettings):
    """What receiving Meta's webhooks needs (ingress): the app secret and the verify token."""

    meta_app_secret: SecretStr = SecretStr("dev-app-secret-not-for-production")
    meta_verify_token: SecretStr = SecretStr("dev-verify-token")


class MediaStoreSettings(CommonSettings):
    """Where customers' media bytes are kept (the media stage writes, `wapipe privacy` exports and erases)."""

    media_store: Literal["folder", "s3"] = "folder"
    media_dir: str = ".wapipe/media"
    media_s3_bucket: str = "wapipe-media"
    media_s3_endpoint_url: str = Field(default="", description="MinIO or another S3-compatible server; empty = AWS")
    media_s3_region: str = "us-east-1"
    media_retention_days: int = Field(default=30, ge=1)


class GraphSettings(CommonSettings):
    """What calling Meta's Graph API needs (sender): the access token and where the API is."""

    meta_access_token: SecretStr = SecretStr("dev-access-token")
    graph_api_url: str = "http://127.0.0.1:8090"
    graph_api_version: str = "v25.0"


class MetaSettings(WebhookSettings, GraphSettings):
    """Both sides of Meta, for the tools that play or check all of it (the simulator, `wapipe go-no-go`)."""


class LLMSettings(CommonSettings):
    """The model provider."""

    llm_provider: Literal["openai", "bedrock", "none"] = "openai"
    openai_api_key: SecretStr = SecretStr("dev-openai-key")
    openai_base_url: str = "http://127.0.0.1:8090/v1"
    openai_model: str = "gpt-4o-mini"
    bedrock_region: str = "us-east-1"
    bedrock_model: str = "anthropic.claude-3-haiku-20240307-v1:0"

    def providers(self) -> set[str]:
        return {self.llm_provider}

    def _secrets_in_use(self) -> dict[str, str]:
        found = super()._secrets_in_use()
        if "openai" not in self.providers():
            found.pop("openai_api_key", None)
        return found


class AdminSettings(CommonSettings):
    admin_token: SecretStr = SecretStr("dev-admin-token")


class CoalesceSettings(CommonSettings):
    """The burst window: guardrails stamps `AnswerRequested.not_before = now + window` and the AI stage keeps
    waiting while messages arrive within it, so both must read the same value."""

    coalesce_window_s: float = Field(default=1.5, ge=0, description="AnswerRequested.not_before = now + this")


S = TypeVar("S", bound=CommonSettings)


def settings_or_exit(cls: type[S], who: str) -> S:
    """A process's settings, for its `main()`: a refused configuration ends the process with one line on stderr
    (exit 1) naming the settings at fault, never their values, instead of a traceback."""
    try:
        return cls()
    except (ValidationError, SettingsError) as exc:
        raise SystemExit(f"{who} refuses to start: {describe(exc)}") from None


def describe(exc: ValidationError | SettingsError) -> str:
    """One line for a refused configuration: pydantic's errors (inputs hidden) or a settings source's."""
    if isinstance(exc, SettingsError):
        return str(exc)
    parts = []
    for e in exc.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"WAPIPE_{loc.upper()}: {msg}" if loc else msg)
    return "; ".join(parts)
