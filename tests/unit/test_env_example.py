"""`.env.example` lists every setting of every service (and nothing that no service reads)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["wapipe.settings"] + [f"services.{s}.config" for s in ("ingress", "guardrails", "ai", "sender", "notifier")]
MODULES.append("services.media.config")


def _settings_env_names() -> set[str]:
    names: set[str] = set()
    for mod in map(importlib.import_module, MODULES):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, BaseSettings) and cls.__module__ == mod.__name__:
                prefix = cls.model_config.get("env_prefix", "")
                names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names


def test_every_setting_is_documented_in_env_example() -> None:
    listed = set(re.findall(r"^#?\s*(WAPIPE_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = sorted(_settings_env_names() - listed)
    assert not missing, f"add to .env.example (with a one-line comment): {missing}"
