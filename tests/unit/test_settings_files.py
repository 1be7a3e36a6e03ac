"""`WAPIPE_<NAME>_FILE`: a setting read from a file behaves exactly like the same value in `WAPIPE_<NAME>`:
same value, same parsing, same refusals with the same words."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings
from pydantic_settings.exceptions import SettingsError

from services.ai.config import AISettings
from services.ingress.config import IngressSettings
from services.notifier.config import NotifierSettings
from wapipe.settings import describe, settings_or_exit

STRONG = secrets.token_hex(24)


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("WAPIPE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _outcome(cls: type[BaseSettings]) -> tuple[str, Any]:
    """("ok", every field's value, secrets revealed) or ("refused", the one-line reason)."""
    try:
        s = cls()
    except (ValidationError, SettingsError) as exc:
        return "refused", describe(exc)
    return "ok", {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in s.__dict__.items()}


CASES = [
    # (settings class, setting, value, env needed besides): accepted, refused, structured, other kinds
    (NotifierSettings, "WAPIPE_ADMIN_TOKEN", STRONG, {}),
    (NotifierSettings, "WAPIPE_ADMIN_TOKEN", "dev-admin-token", {}),
    (NotifierSettings, "WAPIPE_ADMIN_TOKEN", "short-but-real", {}),
    (NotifierSettings, "WAPIPE_ADMIN_TOKEN", "dev-admin-token", {"WAPIPE_ENV": "dev"}),
    (IngressSettings, "WAPIPE_META_APP_SECRET", "change-me", {"WAPIPE_META_VERIFY_TOKEN": STRONG,
                                                               "WAPIPE_API_CHAT_KEY": STRONG[::-1]}),
    (AISettings, "WAPIPE_LLM_PRICES", json.dumps({"gpt-4o-mini": [0.15, 0.6]}), {"WAPIPE_ENV": "dev"}),
    (AISettings, "WAPIPE_LLM_PRICES", "{not json", {"WAPIPE_ENV": "dev"}),
    (NotifierSettings, "WAPIPE_NOTIFIER_RELAY_LIMIT", "0", {"WAPIPE_ENV": "dev"}),
    (NotifierSettings, "WAPIPE_REDIS_PASSWORD", "Rd7kQ2mX9p", {"WAPIPE_ENV": "dev"}),
]


@pytest.mark.parametrize(("cls", "name", "value", "others"), CASES)
def test_a_file_behaves_exactly_like_the_variable(clean: pytest.MonkeyPatch, tmp_path: Path,
                                                  cls: type[BaseSettings], name: str, value: str,
                                                  others: dict[str, str]) -> None:
    for k, v in others.items():
        clean.setenv(k, v)
    clean.setenv(name, value)
    from_env = _outcome(cls)
    clean.delenv(name)
    path = tmp_path / name
    path.write_text(value + "\n", encoding="utf-8")  # as `echo value > file` writes it
    clean.setenv(f"{name}_FILE", str(path))
    from_file = _outcome(cls)
    # Only a source's own error says where the value came from.
    assert from_file == (from_env[0], str(from_env[1]).replace("EnvSettingsSource", "FileSettingsSource")
                         if from_env[0] == "refused" else from_env[1])
    if from_env[0] == "refused":
        assert value not in from_env[1]


def test_a_file_is_read_as_is_but_for_one_trailing_newline(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean.setenv("WAPIPE_ENV", "dev")
    for content, expected in (("tok\n", "tok"), ("tok\r\n", "tok"), ("tok", "tok"), ("tok\n\n", "tok\n")):
        path = tmp_path / "token"
        path.write_bytes(content.encode())
        clean.setenv("WAPIPE_ADMIN_TOKEN_FILE", str(path))
        assert NotifierSettings().admin_token.get_secret_value() == expected, repr(content)


def test_both_the_variable_and_the_file_is_refused(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "t").write_text(STRONG)
    clean.setenv("WAPIPE_ADMIN_TOKEN_FILE", str(tmp_path / "t"))
    clean.setenv("WAPIPE_ADMIN_TOKEN", STRONG)
    with pytest.raises(SettingsError, match="WAPIPE_ADMIN_TOKEN and WAPIPE_ADMIN_TOKEN_FILE are both set"):
        NotifierSettings()


def test_an_unreadable_file_names_the_setting_and_the_path_and_stops_the_process(clean: pytest.MonkeyPatch,
                                                                                 tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    clean.setenv("WAPIPE_ADMIN_TOKEN_FILE", str(missing))
    with pytest.raises(SystemExit) as stop:
        settings_or_exit(NotifierSettings, "notifier")
    assert str(stop.value) == (f"notifier refuses to start: WAPIPE_ADMIN_TOKEN_FILE: cannot read {missing}: "
                               "No such file or directory")


def test_a_service_reads_no_file_of_a_setting_it_does_not_have(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One pod's environment may name other services' files; only its own settings are looked at."""
    clean.setenv("WAPIPE_ENV", "dev")
    clean.setenv("WAPIPE_OPENAI_API_KEY_FILE", str(tmp_path / "not-mounted-here"))
    assert IngressSettings().dev
