"""Settings names: each `WAPIPE_*` name is defined by exactly one settings class (a name several services must
agree on lives in one shared class they inherit), `.env.example` lists every one, and whatever sets names
(`.env.example`, docker-compose.yml, the k8s manifests, the local stack, replay sandboxes, the benchmarks, the
tests) sets only names a settings class defines. One `.env` then never configures two services alike by accident,
and a typo or a renamed setting cannot be set silently in vain."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from wapipe_tools.local.ports import StackPorts
from wapipe_tools.local.stack import local_specs, stack_env
from wapipe_tools.replay.sandbox import sandbox_specs

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["wapipe.settings"] + sorted(f"services.{p.parent.name}.config" for p in ROOT.glob("services/*/config.py"))
# Names that are no setting of a service, and the one file that reads each.
NOT_SETTINGS = {
    "WAPIPE_IMAGE": "docker-compose.yml",
    "WAPIPE_COMPOSE_GRAPH_API_URL": "docker-compose.yml",
    "WAPIPE_COMPOSE_OPENAI_BASE_URL": "docker-compose.yml",
    "WAPIPE_GRAFANA_ADMIN_PASSWORD": "docker-compose.yml",
    "WAPIPE_MINIO_ROOT_USER": "docker-compose.yml",
    "WAPIPE_MINIO_ROOT_PASSWORD": "docker-compose.yml",
    "WAPIPE_CASSANDRA_DC": "tests/integration/store/conftest.py",  # the Cassandra contract tests' datacenter
    "WAPIPE_S3_ENDPOINT_URL": "tests/integration/objectstore/conftest.py",  # the S3 contract tests' server
}
NAME = re.compile(r"\bWAPIPE_[A-Z0-9_]*[A-Z0-9]\b")
QUOTED_NAME = re.compile(r"[\"'](WAPIPE_[A-Z0-9_]*[A-Z0-9])[\"']")


def _settings_classes() -> list[type[BaseSettings]]:
    found: list[type[BaseSettings]] = []
    for mod in map(importlib.import_module, MODULES):
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, BaseSettings) and cls.__module__ == mod.__name__:
                found.append(cls)
    return found


def _definitions() -> dict[str, list[str]]:
    """Env name -> the classes that declare the field themselves (inheriting one is not defining it)."""
    names: dict[str, list[str]] = {}
    for cls in _settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field in inspect.get_annotations(cls):
            if field in cls.model_fields:
                assert cls.model_fields[field].alias is None, f"{cls.__name__}.{field}: aliases hide the env name"
                names.setdefault(f"{prefix}{field}".upper(), []).append(f"{cls.__module__}.{cls.__name__}")
    return names


DEFINED = set(_definitions())


def _undefined(names: set[str]) -> list[str]:
    """`WAPIPE_<NAME>_FILE` is setting `WAPIPE_<NAME>` read from a file (`wapipe/settings_files.py`)."""
    return sorted(n for n in names - DEFINED - set(NOT_SETTINGS) if n.removesuffix("_FILE") not in DEFINED)


def _env_example_names() -> set[str]:
    return set(re.findall(r"^#?\s*(WAPIPE_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))


def test_the_scan_finds_every_service_and_the_shared_classes() -> None:
    classes = {c.__name__ for c in _settings_classes()}
    assert {"CommonSettings", "IngressSettings", "GuardrailsSettings", "AISettings", "SenderSettings",
            "NotifierSettings"} <= classes
    assert "WAPIPE_KAFKA_BOOTSTRAP_SERVERS" in DEFINED and "WAPIPE_GUARDRAILS_MAX_IN_FLIGHT" in DEFINED


def test_every_name_is_defined_by_exactly_one_settings_class() -> None:
    shared = {name: where for name, where in _definitions().items() if len(where) > 1}
    assert not shared, ("one .env would configure these alike in several services; prefix each with its service, "
                        f"or define it once in a shared class in wapipe/settings.py: {shared}")


def test_every_setting_is_documented_in_env_example() -> None:
    missing = sorted(DEFINED - _env_example_names())
    assert not missing, f"add to .env.example (with a one-line comment): {missing}"


def test_env_example_lists_only_names_a_settings_class_defines() -> None:
    assert _undefined(_env_example_names()) == []


def test_the_names_that_are_no_settings_are_read_where_the_list_says() -> None:
    for name, reader in NOT_SETTINGS.items():
        assert name in (ROOT / reader).read_text(encoding="utf-8"), f"{name} is not read by {reader} any more"


def _compose_environment_names() -> set[str]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    names: set[str] = set()
    for svc in compose["services"].values():
        env = svc.get("environment") or {}
        keys = env if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        names |= {k for k in keys if k.startswith("WAPIPE_")}
    return names


def test_docker_compose_sets_only_defined_names() -> None:
    names = _compose_environment_names()
    assert "WAPIPE_KAFKA_BOOTSTRAP_SERVERS" in names  # the anchors were resolved
    assert _undefined(names) == []


def test_kubernetes_manifests_name_only_defined_settings() -> None:
    files = [p for p in (ROOT / "deploy" / "k8s").rglob("*") if p.suffix in {".yaml", ".yml", ".env"}]
    names = {n for p in files for n in NAME.findall(p.read_text(encoding="utf-8"))}
    assert {"WAPIPE_ENV", "WAPIPE_META_APP_SECRET_FILE"} <= names
    assert _undefined(names) == []


def test_the_local_stack_sandboxes_and_bench_stack_set_only_defined_names(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the stack reads .env.example from the working directory
    env = stack_env(tmp_path, base={})
    specs = [*local_specs(), *sandbox_specs("s1", 0, tmp_path, 16379), *local_specs(StackPorts.from_base(30000))]
    names = {k for k in env if k.startswith("WAPIPE_")} | {k for s in specs for k, _ in s.env}
    assert {"WAPIPE_GUARDRAILS_CONSUMER_GROUP", "WAPIPE_SENDER_METRICS_PORT"} <= names
    assert _undefined(names) == []


@pytest.mark.parametrize("folder", ["bench", "tests", "wapipe_tools"])
def test_code_sets_only_defined_names(folder: str) -> None:
    found: dict[str, str] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in QUOTED_NAME.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(path.relative_to(ROOT)))
    undefined = {n: found[n] for n in _undefined(set(found))}
    assert undefined == {}
