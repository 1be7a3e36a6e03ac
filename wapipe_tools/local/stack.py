"""The local stack's process supervisor: broker, Redis, topics, store, simulator, the six services and the
operator console.

Every service runs as its own process with the command production runs (`wapipe run <name>`) and an explicit
environment (dev values from `.env.example`, then the caller's `WAPIPE_*` overrides, then the stack's addresses,
`WAPIPE_ENV=dev` and loopback-only listeners).
Logs go to `<state>/logs/<name>.log`; `<state>/stack.json` says which pid serves what, for tools and tests, and
`<state>/stack.pid` lists the supervisor and every process it started (`wapipe down` reads it). Every process dies
with the supervisor, even when the supervisor is SIGKILLed (see `spawn`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from dotenv import dotenv_values

from wapipe.topics import create_topics, registry_specs
from wapipe_tools.local import pids
from wapipe_tools.local.metrics import Counts, scrape
from wapipe_tools.local.ports import LOCAL_PORTS, StackPorts
from wapipe_tools.local.ready import NotReady, http_ok, wait_until
from wapipe_tools.local.servers import ServerProcess, port_is_free, start_broker, start_redis
from wapipe_tools.local.spawn import spawn

BROKER_PORT, REDIS_PORT, SIM_PORT = LOCAL_PORTS.broker, LOCAL_PORTS.redis, LOCAL_PORTS.simulator
# Dev values when `.env.example` is not next to the working directory (an installed wheel, say).
DEV_ENV = {
    "WAPIPE_ENV": "dev", "WAPIPE_META_APP_SECRET": "dev-app-secret-not-for-production",
    "WAPIPE_META_VERIFY_TOKEN": "dev-verify-token", "WAPIPE_META_ACCESS_TOKEN": "dev-access-token",
    "WAPIPE_GRAPH_API_VERSION": "v25.0", "WAPIPE_LLM_PROVIDER": "openai", "WAPIPE_OPENAI_API_KEY": "dev-openai-key",
    "WAPIPE_ADMIN_TOKEN": "dev-admin-token", "WAPIPE_API_CHAT_KEY": "dev-api-chat-key",
    "WAPIPE_CONSOLE_SESSION_SECRET": "dev-console-session-secret", "WAPIPE_CONSOLE_DEV_OPERATOR": "admin",
    "WAPIPE_CONSOLE_DEV_PASSWORD": "dev-console-password",
}
# Every listener of the local stack stays on loopback whatever the caller's environment says: the dev secrets
# are public, so nothing of it may be reachable from another machine.
LOOPBACK_HOSTS = ("WAPIPE_INGRESS_HOST", "WAPIPE_GUARDRAILS_HOST", "WAPIPE_AI_HOST", "WAPIPE_SENDER_HOST",
                  "WAPIPE_NOTIFIER_HOST", "WAPIPE_MEDIA_HOST", "WAPIPE_CONSOLE_HOST")
# What a child may inherit besides WAPIPE_*: enough to find Python, locales and temp dirs.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "TZ", "TERM")


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    argv: tuple[str, ...]
    ports: tuple[int, ...]
    ready_url: str
    metrics_url: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # on top of the stack's environment (a sandbox's prefix, say)


def wapipe_argv(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "wapipe_tools.cli.main", *args)


def port_env(ports: StackPorts) -> dict[str, dict[str, int]]:
    """The settings that put each service on its ports of the table."""
    return {
        "ingress": {"WAPIPE_INGRESS_PORT": ports.ingress, "WAPIPE_INGRESS_METRICS_PORT": ports.ingress_metrics},
        "guardrails": {"WAPIPE_GUARDRAILS_METRICS_PORT": ports.guardrails_health},
        "ai": {"WAPIPE_AI_METRICS_PORT": ports.ai_health},
        "sender": {"WAPIPE_SENDER_METRICS_PORT": ports.sender_health},
        "notifier": {"WAPIPE_NOTIFIER_PORT": ports.notifier, "WAPIPE_NOTIFIER_METRICS_PORT": ports.notifier_health},
        "console": {"WAPIPE_CONSOLE_PORT": ports.console, "WAPIPE_CONSOLE_METRICS_PORT": ports.console_health},
        "media": {"WAPIPE_MEDIA_METRICS_PORT": ports.media_health},
    }


def local_specs(ports: StackPorts = LOCAL_PORTS) -> list[ServiceSpec]:
    """The simulator and the six services on the ports of `ports` (the Local defaults unless told otherwise)."""
    sim = ServiceSpec("simulator", wapipe_argv("simulator", "--port", str(ports.simulator), "--ingress-url",
                                               f"{ports.url('ingress')}/webhook"),
                      (ports.simulator,), f"{ports.url('simulator')}/healthz")
    specs = [sim]
    for name, env in port_env(ports).items():
        health = ports.health(name)
        ready = f"{ports.url('ingress')}/readyz" if name == "ingress" else f"http://127.0.0.1:{health}/readyz"
        extra = {"ingress": (ports.ingress,), "notifier": (ports.notifier,), "console": (ports.console,)}.get(name, ())
        specs.append(ServiceSpec(name, wapipe_argv("run", name), (*extra, health), ready,
                                 f"http://127.0.0.1:{health}/metrics", tuple((k, str(v)) for k, v in env.items())))
    return specs


def env_file_values(path: Path) -> dict[str, str]:
    """The `KEY=value` lines of an env file, parsed by python-dotenv (quotes, `export`, comments; what
    pydantic-settings reads from `.env` too); a missing file is empty, a key without `=` is skipped."""
    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}


def stack_env(state: Path, *, broker_port: int = BROKER_PORT, redis_port: int = REDIS_PORT,
              sim_port: int = SIM_PORT, base: dict[str, str] | None = None) -> dict[str, str]:
    """The explicit environment of every child: dev values < caller's WAPIPE_* < the stack's own addresses, dev
    mode and loopback listeners."""
    outer = dict(os.environ if base is None else base)
    env = {k: outer[k] for k in _INHERITED if k in outer}
    env.update(DEV_ENV)
    env.update(env_file_values(Path(".env.example")))
    env.update({k: v for k, v in outer.items() if k.startswith("WAPIPE_")})
    tenants = Path(env.get("WAPIPE_TENANTS_DIR", "config/tenants"))
    if "WAPIPE_MEDIA_DIR" not in outer:  # the stack's media beside its store, not .env.example's folder
        env["WAPIPE_MEDIA_DIR"] = str((state / "media").resolve())
    if "WAPIPE_SENDER_MEDIA_DIR" not in outer:  # media replies by key read the media stage's folder
        env["WAPIPE_SENDER_MEDIA_DIR"] = env["WAPIPE_MEDIA_DIR"]
    env.update({
        "WAPIPE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{broker_port}",
        "WAPIPE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "WAPIPE_STORE_URL": f"sqlite:///{(state / 'wapipe.db').resolve()}",
        "WAPIPE_GRAPH_API_URL": f"http://127.0.0.1:{sim_port}",
        "WAPIPE_OPENAI_BASE_URL": f"http://127.0.0.1:{sim_port}/v1",
        "WAPIPE_TENANTS_DIR": str(tenants.resolve()),
        "WAPIPE_TOPIC_PREFIX": "",
        "WAPIPE_ENV": "dev",
        **dict.fromkeys(LOOPBACK_HOSTS, "127.0.0.1"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


@dataclass
class Child:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    ready: bool = False
    counts: Counts = field(default_factory=Counts)
    rate: float = 0.0

    @property
    def state(self) -> str:
        rc = self.process.poll()
        if rc is not None:
            return f"exited ({rc})"
        return "ready" if self.ready else "starting"


class PortTaken(RuntimeError):
    def __init__(self, port: int, owner: str) -> None:
        super().__init__(f"port {port} is already in use by {owner}; stop it or free the port")
        self.port = port


class Stack:
    """Starts and stops the local stack. Not thread-safe: one supervisor loop, on the main thread, drives it."""

    def __init__(self, state: Path, specs: list[ServiceSpec] | None = None, *, ports: StackPorts = LOCAL_PORTS,
                 env: dict[str, str] | None = None) -> None:
        self.state = state
        self.logs = state / "logs"
        self.ports = ports
        self.specs = specs if specs is not None else local_specs(ports)
        self.broker_port, self.redis_port = ports.broker, ports.redis
        self.env = env if env is not None else stack_env(state, broker_port=ports.broker, redis_port=ports.redis,
                                                         sim_port=ports.simulator)
        self.servers: list[ServerProcess] = []
        self.children: list[Child] = []
        self._http = httpx.Client(timeout=1.0)
        self._last_poll = time.monotonic()

    def check_ports(self) -> None:
        from wapipe_tools.local.ports import port_owner

        for port in (self.broker_port, self.redis_port, *(p for s in self.specs for p in s.ports)):
            if not port_is_free(port):
                raise PortTaken(port, port_owner(port))

    def write_pids(self) -> None:
        """`stack.pid`: this supervisor, then the broker, Redis and every child, as they are now."""
        self.state.mkdir(parents=True, exist_ok=True)
        procs = [(s.name, s.process) for s in self.servers] + [(c.spec.name, c.process) for c in self.children]
        pids.write(self.state, [pids.entry(pids.SUPERVISOR, os.getpid()),
                                *(pids.entry(name, p.pid) for name, p in procs)])

    def start_infra(self) -> None:
        """Broker, Redis, the registry's topics, the SQLite schema and the demo catalogs (config/catalogs)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        self.write_pids()
        self.servers.append(start_broker(self.broker_port, log=self.logs / "broker.log"))
        self.write_pids()
        self.servers.append(start_redis(self.redis_port, log=self.logs / "redis.log"))
        self.write_pids()
        create_topics(f"127.0.0.1:{self.broker_port}", registry_specs(""), timeout_s=15)
        from wapipe.store import open_store

        async def migrate() -> None:
            store = open_store(self.env["WAPIPE_STORE_URL"])
            try:
                await store.migrate()
            finally:
                await store.close()

        asyncio.run(migrate())
        from wapipe_tools.local.catalogs import seed_catalogs

        asyncio.run(seed_catalogs(self.env["WAPIPE_STORE_URL"], Path(self.env["WAPIPE_TENANTS_DIR"])))

    def _spawn(self, spec: ServiceSpec, append: bool = False) -> subprocess.Popen[bytes]:
        return spawn(spec.argv, env={**self.env, **dict(spec.env)}, log=self.logs / f"{spec.name}.log", append=append)

    def start_services(self) -> None:
        for spec in self.specs:
            self.children.append(Child(spec, self._spawn(spec)))
            self.write_pids()
        self.write_state()

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.spec.name == name)

    def restart(self, name: str) -> Child:
        """SIGKILL one service (no drain, no commit) and start it again with the same command and environment.
        From a thread other than the main one, the new process does not die with the supervisor (see `spawn`)."""
        c = self.child(name)
        c.process.send_signal(signal.SIGKILL)
        c.process.wait()
        c.process = self._spawn(c.spec, append=True)
        c.ready = False
        self.write_pids()
        self.write_state()
        return c

    def write_state(self) -> None:
        doc = {"services": {c.spec.name: {"pid": c.process.pid, "ports": list(c.spec.ports),
                                          "ready_url": c.spec.ready_url} for c in self.children},
               "broker": f"127.0.0.1:{self.broker_port}", "redis": f"redis://127.0.0.1:{self.redis_port}/0",
               "store_url": self.env["WAPIPE_STORE_URL"], "logs": str(self.logs.resolve())}
        (self.state / "stack.json").write_text(json.dumps(doc, indent=2))

    def poll(self) -> list[Child]:
        """Refresh readiness and message rates of every child."""
        now = time.monotonic()
        elapsed = max(now - self._last_poll, 1e-3)
        self._last_poll = now
        for c in self.children:
            if c.process.poll() is not None:
                c.ready = False
                continue
            c.ready = http_ok(c.spec.ready_url, self._http)
            if c.spec.metrics_url and c.ready:
                counts = scrape(self._http, c.spec.metrics_url)
                if counts is not None:
                    c.rate = max(counts.messages - c.counts.messages, 0) / elapsed if c.counts.messages else 0.0
                    c.counts = counts
        return self.children

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]

    def all_ready(self) -> bool:
        return bool(self.children) and all(c.ready for c in self.children)

    def wait_ready(self, timeout: float, on_poll: Callable[[list[Child]], None] | None = None) -> float:
        """Poll every child until all are ready (returns the seconds it took). Raises NotReady when one exits
        (naming it and its log) or at the deadline (naming those still starting)."""
        def check() -> bool:
            children = self.poll()
            if on_poll is not None:
                on_poll(children)
            return self.all_ready()

        def gave_up() -> str | None:
            dead = self.exited()
            if not dead:
                return None
            return f"{dead[0].spec.name} {dead[0].state}; see {self.logs / (dead[0].spec.name + '.log')}"

        try:
            return wait_until(check, timeout=timeout, what="every service to be ready", interval=0.3,
                              gave_up=gave_up)
        except NotReady as exc:
            if self.exited():
                raise
            waiting = ", ".join(c.spec.name for c in self.children if not c.ready)
            raise NotReady(f"not ready after {timeout:.0f}s: {waiting}; logs in {self.logs}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every service (they drain and commit), wait, then kill what is left; then Redis and the broker."""
        for c in self.children:
            if c.process.poll() is None:
                c.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for c in self.children:
            try:
                c.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                c.process.kill()
                c.process.wait()
        for server in reversed(self.servers):
            server.stop()
        self._http.close()
        pids.clear(self.state)
