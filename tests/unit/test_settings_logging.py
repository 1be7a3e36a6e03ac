"""Settings refuse placeholder secrets outside dev mode; logs mask phone numbers and never show secrets."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from wapipe.logging import JsonFormatter, TextFormatter, bound_correlation, mask_phone, redact
from wapipe.settings import AdminSettings, MetaSettings

STRONG = "k9Xq2vR7pL4mZ8tB3nW6yH1sQ5cJ0dFa"


def test_dev_defaults_load_in_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_ENV", "dev")
    s = MetaSettings(_env_file=None)
    assert s.dev and s.graph_api_version == "v25.0"
    assert s.topic("wa.inbound.v1") == "wa.inbound.v1"


def test_production_refuses_placeholder_secrets_and_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_ENV", "production")
    monkeypatch.setenv("WAPIPE_META_APP_SECRET", STRONG)
    monkeypatch.setenv("WAPIPE_META_VERIFY_TOKEN", "changeme")
    monkeypatch.setenv("WAPIPE_META_ACCESS_TOKEN", STRONG + "x")
    with pytest.raises(ValidationError, match="WAPIPE_META_VERIFY_TOKEN") as err:
        MetaSettings(_env_file=None)
    assert "WAPIPE_META_APP_SECRET" not in str(err.value)
    assert STRONG not in str(err.value)


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_ENV", "production")
    monkeypatch.setenv("WAPIPE_ADMIN_TOKEN", STRONG)
    s = AdminSettings(_env_file=None)
    assert s.production and s.admin_token.get_secret_value() == STRONG
    assert STRONG not in repr(s)


def test_mask_phone_keeps_only_the_last_four_digits() -> None:
    assert mask_phone("+573001234567") == "…4567"
    assert mask_phone("123") == "…"
    assert mask_phone(None) == "…"
    assert redact("from 573001234567 to +14155550123") == "from …4567 to …0123"


def _record(msg: str, *args: object) -> logging.LogRecord:
    record = logging.LogRecord("wapipe.test", logging.INFO, __file__, 1, msg, args, None)
    record.service = "guardrails"
    return record


def test_json_logs_carry_the_correlation_id_and_mask_numbers() -> None:
    with bound_correlation("wamid.ABC"):
        record = _record("reply to %s failed", "573001234567")
        record.correlation_id = "wamid.ABC"
        doc = json.loads(JsonFormatter().format(record))
    assert doc["msg"] == "reply to …4567 failed"
    assert doc["correlation_id"] == "wamid.ABC"
    assert doc["service"] == "guardrails" and doc["level"] == "INFO"


def test_text_logs_mask_numbers_too() -> None:
    record = _record("customer %s wrote", "+573001234567")
    record.correlation_id = None
    line = TextFormatter().format(record)
    assert "573001234567" not in line and "…4567" in line
