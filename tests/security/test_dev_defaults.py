"""Dev defaults cannot ship: a service started without the dev switch refuses a development secret, naming the
setting and never the value; the simulator refuses to start outside dev mode; and the local stack, the one place
that runs dev mode, listens on loopback only."""

from __future__ import annotations

import inspect
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.ai.config import AISettings
from services.console.config import ConsoleSettings
from services.guardrails.config import GuardrailsSettings
from services.ingress.config import IngressSettings
from services.media.config import MediaSettings
from services.notifier.config import NotifierSettings
from services.sender.config import SenderSettings
from wapipe.runtime.service import run_consumer, serve
from wapipe_tools.local.servers import free_port, port_is_free
from wapipe_tools.local.stack import LOOPBACK_HOSTS, local_specs, stack_env
from wapipe_tools.simulator.serve import BackgroundSimulator, NotDevMode

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, type[BaseSettings]] = {"ingress": IngressSettings, "guardrails": GuardrailsSettings,
                                           "ai": AISettings, "sender": SenderSettings,
                                           "notifier": NotifierSettings, "media": MediaSettings,
                                           "console": ConsoleSettings}
# Per service: its secrets, one of them (the first) holding a value of .env.example. guardrails has no secret of
# its own; the Redis password every service may be given stands in.
DEV_VALUE_OF = {
    "ingress": ("WAPIPE_META_APP_SECRET", "dev-app-secret-not-for-production",
                ["WAPIPE_META_VERIFY_TOKEN", "WAPIPE_API_CHAT_KEY"]),
    "guardrails": ("WAPIPE_REDIS_PASSWORD", "dev-admin-token", []),
    "ai": ("WAPIPE_OPENAI_API_KEY", "dev-openai-key", []),
    "sender": ("WAPIPE_META_ACCESS_TOKEN", "dev-access-token", []),
    "notifier": ("WAPIPE_ADMIN_TOKEN", "dev-admin-token", []),
    "media": ("WAPIPE_META_ACCESS_TOKEN", "dev-access-token", []),
    "console": ("WAPIPE_CONSOLE_SESSION_SECRET", "dev-console-session-secret", []),
}


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any WAPIPE_* (so without the tests' WAPIPE_ENV=dev), plus `extra`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("WAPIPE_")}, **extra}


def _wapipe(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wapipe_tools.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_without_the_dev_switch_refuses_a_dev_secret_naming_the_setting(service: str,
                                                                                  tmp_path: Path) -> None:
    name, value, others = DEV_VALUE_OF[service]
    env = _clean_env(**{name: value}, **{o: secrets.token_hex(24) for o in others})
    done = _wapipe(["run", service], env, tmp_path)  # tmp_path: no .env to read
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert f"{service} refuses to start" in done.stderr and f"{name} is a development value" in done.stderr, out
    assert value not in out and "Traceback" not in out


def test_saying_nothing_refuses_the_built_in_secrets(tmp_path: Path) -> None:
    done = _wapipe(["run", "ingress"], _clean_env(), tmp_path)
    assert done.returncode == 1
    assert "WAPIPE_META_APP_SECRET is not set" in done.stderr and "dev-app-secret" not in done.stderr


def test_the_simulator_refuses_to_start_outside_dev_mode(tmp_path: Path) -> None:
    port = free_port()
    done = _wapipe(["simulator", "--port", str(port)], _clean_env(), tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refuses to start outside dev mode" in done.stderr
    assert port_is_free(port)
    done = _wapipe(["simulator", "--port", str(port)], _clean_env(WAPIPE_ENV="production"), tmp_path)
    assert done.returncode == 2 and "refuses to start outside dev mode" in done.stderr


def test_the_in_process_simulator_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_ENV", "production")
    sim = BackgroundSimulator()
    with pytest.raises(NotDevMode, match="WAPIPE_ENV=dev"):
        sim.start()
    assert port_is_free(sim.port)
    monkeypatch.setenv("WAPIPE_ENV", "dev")
    with sim:  # the tests' own mode: it serves
        assert not port_is_free(sim.port)


def test_the_local_stack_is_dev_and_loopback_whatever_the_callers_environment(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    hostile = {"WAPIPE_ENV": "production", **dict.fromkeys(LOOPBACK_HOSTS, "0.0.0.0")}
    env = stack_env(tmp_path, base=hostile)
    assert env["WAPIPE_ENV"] == "dev"
    assert {env[h] for h in LOOPBACK_HOSTS} == {"127.0.0.1"}
    assert all(s.ready_url.startswith("http://127.0.0.1:") for s in local_specs())
    sim = next(s for s in local_specs() if s.name == "simulator")
    assert "--host" not in sim.argv  # the simulator's own default: 127.0.0.1


def test_every_listener_defaults_to_loopback() -> None:
    """Each service has exactly one bind-host setting, 127.0.0.1 unless a manifest says 0.0.0.0; so do the
    runtime's health server and the simulator."""
    hosts = {svc: {f: cls.model_fields[f].default for f in cls.model_fields if f.endswith("_host")}
             for svc, cls in SERVICES.items()}
    assert hosts == {svc: {f"{svc}_host": "127.0.0.1"} for svc in SERVICES}
    assert set(LOOPBACK_HOSTS) == {f"WAPIPE_{svc.upper()}_HOST" for svc in SERVICES}
    for fn in (run_consumer, serve):
        assert inspect.signature(fn).parameters["host"].default == "127.0.0.1"
    from wapipe_tools.cli.simulator import simulator

    assert inspect.signature(simulator).parameters["host"].default.default == "127.0.0.1"
