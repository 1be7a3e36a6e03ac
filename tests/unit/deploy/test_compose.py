"""docker-compose.yml parses, every service has a healthcheck, start order is explicit, names exist in .env.example."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.unit.deploy.support import ROOT

COMPOSE = ROOT / "docker-compose.yml"
INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:[:?\-+][^}]*)?\}")
EXPECTED_PORTS = {"ingress": {"8080", "9101"}, "guardrails": {"9102"}, "ai": {"9103"}, "sender": {"9104"},
                  "notifier": {"9105", "8081"}, "media": {"9106"}, "console": {"9107", "8082"}}


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _env_example() -> set[str]:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {ln.split("=", 1)[0].strip() for ln in lines if "=" in ln and not ln.lstrip().startswith("#")}


def test_stack_has_every_piece() -> None:
    services = _compose()["services"]
    assert set(services) == {"kafka", "kafka-topics", "redis", "cassandra", "store-migrate", "ingress", "guardrails",
                             "ai", "sender", "notifier", "media", "minio", "console", "simulator", "prometheus",
                             "grafana"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert services["kafka-topics"]["command"][:2] == ["topics", "create"]
    assert services["store-migrate"]["command"] == ["store", "migrate"]
    assert services["simulator"]["profiles"] == ["dev"]
    for name, ports in EXPECTED_PORTS.items():
        assert services[name]["command"] == ["run", name]
        published = {p.rsplit(":", 1)[-1] for p in services[name]["ports"]}
        assert published == ports, name


def test_published_ports_bind_loopback_only() -> None:
    # The webhook included: the host publishes it through a reverse proxy with its own limits, never directly.
    for name, svc in _compose()["services"].items():
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_every_service_has_a_healthcheck_and_waits_on_conditions() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: depends_on must name a condition"
        for dep, cond in deps.items():
            assert dep in services and dep != name, f"{name} depends on {dep}"
            assert cond["condition"] in {"service_healthy", "service_completed_successfully"}, (name, dep)
    for name in EXPECTED_PORTS:
        deps = services[name]["depends_on"]
        assert deps["kafka-topics"]["condition"] == "service_completed_successfully"
        assert deps["store-migrate"]["condition"] == "service_completed_successfully"


def test_environment_names_exist_in_env_example() -> None:
    documented = _env_example()
    interpolated = set(INTERPOLATION.findall(COMPOSE.read_text(encoding="utf-8")))
    assert interpolated - documented == set()
    for name, svc in _compose()["services"].items():
        env = svc.get("environment") or {}
        wapipe_names = {k for k in env if k.startswith("WAPIPE_")}
        assert wapipe_names - documented == set(), name


def test_mounted_files_exist() -> None:
    for name, svc in _compose()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_docker_compose_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed; the structural checks above still ran")
    done = subprocess.run([docker, "compose", "-f", str(COMPOSE), "--env-file", str(ROOT / ".env.example"),
                           "--profile", "dev", "config", "--quiet"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
