"""Outside dev mode no service starts on a development, placeholder or weak secret, and saying nothing about the
mode means production. Each refusal names the setting, never its value."""

from __future__ import annotations

import random
import secrets
import typing
from pathlib import Path

import pytest
import yaml
from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

from services.ai.config import AISettings
from services.guardrails.config import GuardrailsSettings
from services.ingress.config import IngressSettings
from services.media.config import MediaSettings
from services.notifier.config import NotifierSettings
from services.sender.config import SenderSettings
from wapipe.secret_strength import DEV_VALUES, MIN_LENGTH, weakness
from wapipe.settings import CommonSettings, LLMSettings, MetaSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, type[CommonSettings]] = {"ingress": IngressSettings, "guardrails": GuardrailsSettings,
                                             "ai": AISettings, "sender": SenderSettings,
                                             "notifier": NotifierSettings}
CLASSES: list[type[CommonSettings]] = [*SERVICES.values(), MediaSettings, MetaSettings, LLMSettings]
# Choices under which a class uses every secret it has (the media stage uses the model key only to transcribe).
USING_ALL = {MediaSettings: {"WAPIPE_MEDIA_TRANSCRIBER": "openai"}}


def secret_fields(cls: type[BaseSettings]) -> set[str]:
    """The fields typed SecretStr (or SecretStr | None)."""
    found = set()
    for name, field in cls.model_fields.items():
        ann = field.annotation
        if ann is SecretStr or SecretStr in typing.get_args(ann):
            found.add(name)
    return found


def required_secrets(cls: type[BaseSettings]) -> set[str]:
    """The secrets with a built-in (development) value: a production process must be given each of them."""
    return {n for n in secret_fields(cls) if isinstance(cls.model_fields[n].default, SecretStr)}


def env_name(field: str) -> str:
    return f"WAPIPE_{field.upper()}"


def strong() -> str:
    return secrets.token_hex(24)


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A process environment with no WAPIPE_* at all (not even WAPIPE_ENV), in a folder without `.env`."""
    import os

    for key in list(os.environ):
        if key.startswith("WAPIPE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_saying_nothing_means_production_and_the_built_in_secrets_are_refused(
        production: pytest.MonkeyPatch) -> None:
    assert CommonSettings().production
    for name, cls in SERVICES.items():
        needed = required_secrets(cls)
        if not needed:  # guardrails holds no secret of its own: nothing to refuse
            assert cls().production, name
            continue
        with pytest.raises(ValidationError) as err:
            cls()
        text = str(err.value)
        for field in needed:
            assert f"{env_name(field)} is not set" in text, (name, text)
            assert str(cls.model_fields[field].default.get_secret_value()) not in text
        assert "WAPIPE_ENV=dev" in text  # says how the local stack gets them accepted


def _env_example_secrets() -> dict[str, str]:
    names = {env_name(f) for cls in CLASSES for f in secret_fields(cls)}
    values = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v is not None}
    return {k: v for k, v in values.items() if k in names}


def test_the_dev_values_list_covers_every_secret_that_ships() -> None:
    shipped = set(_env_example_secrets().values())
    assert len(shipped) >= 6  # the Meta trio, the model key, the admin token, the /api/chat key
    defaults = {cls.model_fields[f].default.get_secret_value() for cls in CLASSES for f in required_secrets(cls)}
    docs = list(yaml.safe_load_all((ROOT / "deploy/k8s/overlays/dev/secrets.yaml").read_text(encoding="utf-8")))
    overlay = {v for d in docs for v in d["stringData"].values()}
    assert shipped | defaults | overlay <= DEV_VALUES


@pytest.mark.parametrize("name", sorted(_env_example_secrets()))
def test_every_secret_value_of_env_example_is_refused_outside_dev(production: pytest.MonkeyPatch,
                                                                  name: str) -> None:
    value = _env_example_secrets()[name]
    owners = [cls for cls in CLASSES if name in {env_name(f) for f in secret_fields(cls)}]
    assert owners
    for cls in owners:
        for key, choice in USING_ALL.get(cls, {}).items():
            production.setenv(key, choice)
        for field in required_secrets(cls):
            production.setenv(env_name(field), strong())
        production.setenv(name, value)
        with pytest.raises(ValidationError) as err:
            cls()
        text = str(err.value)
        assert f"{name} is a development value" in text and value not in text, (cls.__name__, text)
        # ... and with the explicit switch of the local stack and the tests, the same value is fine.
        production.setenv("WAPIPE_ENV", "dev")
        assert cls().dev
        production.delenv("WAPIPE_ENV")


@pytest.mark.parametrize(("value", "reason"), [
    ("k9Xq2vR7pL4mZ8tB3nW6yH1s", f"shorter than {MIN_LENGTH} characters"),
    ("ab" * 20, "too little variety"),
    ("0123abcd" * 5, "too little variety"),  # eight different characters, but one piece repeated
    ("change-me-" + "k9Xq2vR7pL4mZ8tB3nW6yH1s", "a placeholder"),
    ("dev-" + "k9Xq2vR7pL4mZ8tB3nW6yH1sQ5cJ0dFa", "a placeholder"),
    ("your-admin-token-goes-here-k9Xq2vR7pL", "a placeholder"),
    ("  ", "empty"),
    ("DEV-ADMIN-TOKEN", "a development value"),
])
def test_weak_secrets_are_refused_with_the_reason(production: pytest.MonkeyPatch, value: str, reason: str) -> None:
    production.setenv("WAPIPE_ADMIN_TOKEN", value)
    with pytest.raises(ValidationError) as err:
        NotifierSettings()
    assert f"WAPIPE_ADMIN_TOKEN is {reason}" in str(err.value)
    if value.strip():
        assert value not in str(err.value)


@pytest.mark.parametrize("value", [
    secrets.token_hex(16),  # 32 hex characters: a Meta app secret
    secrets.token_urlsafe(32),
    "EAAG" + secrets.token_urlsafe(150),  # the shape of a Graph API system-user token
])
def test_real_secrets_pass(production: pytest.MonkeyPatch, value: str) -> None:
    assert weakness(value) is None
    production.setenv("WAPIPE_ADMIN_TOKEN", value)
    assert NotifierSettings().admin_token.get_secret_value() == value


def test_a_random_32_character_hex_secret_is_never_refused() -> None:
    # Meta's app secrets are 32 hex characters: the variety rule must never catch one (8 of 16 digits needed).
    # A seeded generator: the same 20,000 secrets every run, and the one refused is named.
    rng = random.Random(1581)
    refused = [(v, why) for v in (f"{rng.getrandbits(128):032x}" for _ in range(20_000))
               if (why := weakness(v)) is not None]
    assert refused == []


def test_credentials_their_provider_generates_are_exempt_from_length_only(production: pytest.MonkeyPatch) -> None:
    generated = {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512",
                 "kafka_sasl_username": "wapipe", "kafka_sasl_password": SecretStr("Xk3mQ9vL2pTz"),  # Strimzi's
                 "redis_password": SecretStr("Rd7kQ2mX9p")}  # a Redis chart's 10 characters
    s = CommonSettings(**generated)  # type: ignore[arg-type]
    assert s.production and s.redis().password is not None
    for field in ("kafka_sasl_password", "redis_password"):
        with pytest.raises(ValidationError, match=f"{env_name(field)} is a placeholder"):
            CommonSettings(**{**generated, field: SecretStr("change-me")})  # type: ignore[arg-type]
    assert CommonSettings(redis_url="redis://wapipe:Rd7kQ2mX9p@redis.redis:6379/0").production
    with pytest.raises(ValidationError) as err:
        CommonSettings(redis_url="redis://wapipe:dev-admin-token@redis.redis:6379/0")
    assert "the password in WAPIPE_REDIS_URL is a development value" in str(err.value)
    assert "dev-admin-token" not in str(err.value)


def test_an_unused_model_key_is_not_checked(production: pytest.MonkeyPatch) -> None:
    assert AISettings(llm_provider="bedrock").production  # the built-in OpenAI key is never used
    with pytest.raises(ValidationError, match="WAPIPE_OPENAI_API_KEY is not set"):
        AISettings(llm_provider="bedrock", llm_secondary="openai")
    with pytest.raises(ValidationError, match="WAPIPE_OPENAI_API_KEY is not set"):
        AISettings()


def test_the_media_stage_needs_the_graph_api_token_and_the_model_key_only_to_transcribe_remotely(
        production: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as err:
        MediaSettings()
    assert "WAPIPE_META_ACCESS_TOKEN is not set" in str(err.value)
    assert "WAPIPE_OPENAI_API_KEY" not in str(err.value) and "WAPIPE_META_APP_SECRET" not in str(err.value)
    production.setenv("WAPIPE_META_ACCESS_TOKEN", strong())
    assert MediaSettings().production  # the embedded transcriber needs no key
    with pytest.raises(ValidationError, match="WAPIPE_OPENAI_API_KEY is not set"):
        MediaSettings(media_transcriber="openai")
    assert MediaSettings(media_transcriber="openai", media_transcription_api_key=SecretStr(strong())).production
    with pytest.raises(ValidationError, match="WAPIPE_MEDIA_TRANSCRIPTION_API_KEY is a development value"):
        MediaSettings(media_transcriber="openai", media_transcription_api_key=SecretStr("dev-openai-key"))


def test_the_mode_is_one_of_two_words(production: pytest.MonkeyPatch) -> None:
    production.setenv("WAPIPE_ENV", " DEV ")
    assert CommonSettings().dev
    production.setenv("WAPIPE_ENV", "staging")
    with pytest.raises(ValidationError, match="env"):
        CommonSettings()


def test_each_service_reads_only_its_own_secrets() -> None:
    """What the per-service Kubernetes Secrets rely on: ingress has no Graph API token or model key to be
    given, the sender no webhook secrets, guardrails none at all."""
    assert {s: required_secrets(c) for s, c in SERVICES.items()} == {
        "ingress": {"meta_app_secret", "meta_verify_token", "api_chat_key"},
        "guardrails": set(),
        "ai": {"openai_api_key"},
        "sender": {"meta_access_token"},
        "notifier": {"admin_token"},
    }
