"""The whole local stack as `wapipe up` runs it (same supervisor, same `wapipe run <name>` processes), on a
private port range and state folder so it never collides with a developer's `wapipe up` on the default ports."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from wapipe_tools.local.stack import Child, ServiceSpec, Stack, stack_env, wapipe_argv

SERVICES = ("ingress", "guardrails", "ai", "sender", "notifier")


@dataclass(frozen=True)
class Ports:
    base: int

    @property
    def broker(self) -> int:
        return self.base

    @property
    def redis(self) -> int:
        return self.base + 1

    @property
    def sim(self) -> int:
        return self.base + 2

    @property
    def ingress(self) -> int:
        return self.base + 3

    def health(self, service: str) -> int:
        return self.base + 10 + SERVICES.index(service)

    @property
    def notifier_api(self) -> int:
        return self.base + 20


def bench_specs(p: Ports) -> list[ServiceSpec]:
    """`local_specs()` with every port moved into the private range (services read their ports from settings)."""
    h = p.health
    sim = ServiceSpec("simulator", wapipe_argv("simulator", "--port", str(p.sim), "--ingress-url",
                                               f"http://127.0.0.1:{p.ingress}/webhook"),
                      (p.sim,), f"http://127.0.0.1:{p.sim}/healthz")
    port_env = {
        "ingress": {"WAPIPE_INGRESS_PORT": p.ingress, "WAPIPE_INGRESS_METRICS_PORT": h("ingress")},
        "guardrails": {"WAPIPE_GUARDRAILS_METRICS_PORT": h("guardrails")},
        "ai": {"WAPIPE_AI_METRICS_PORT": h("ai")},
        "sender": {"WAPIPE_SENDER_METRICS_PORT": h("sender")},
        "notifier": {"WAPIPE_NOTIFIER_PORT": p.notifier_api, "WAPIPE_NOTIFIER_METRICS_PORT": h("notifier")},
    }
    specs = [sim]
    for name in SERVICES:
        ready = f"http://127.0.0.1:{p.ingress}/readyz" if name == "ingress" else f"http://127.0.0.1:{h(name)}/readyz"
        ports = (h(name), p.ingress) if name == "ingress" else (h(name), p.notifier_api) if name == "notifier" \
            else (h(name),)
        specs.append(ServiceSpec(name, wapipe_argv("run", name), ports, ready,
                                 f"http://127.0.0.1:{h(name)}/metrics",
                                 tuple((k, str(v)) for k, v in port_env[name].items())))
    return specs


class BenchStack:
    """Start, inspect, kill and restart the processes of a private stack."""

    def __init__(self, state: Path, port_base: int, overrides: dict[str, str] | None = None) -> None:
        self.ports = Ports(port_base)
        base = {**os.environ, **(overrides or {})}
        env = stack_env(state, broker_port=self.ports.broker, redis_port=self.ports.redis, sim_port=self.ports.sim,
                        base=base)
        self.stack = Stack(state, bench_specs(self.ports), broker_port=self.ports.broker,
                           redis_port=self.ports.redis, env=env)
        self.sim_url = f"http://127.0.0.1:{self.ports.sim}"
        self.ingress_url = f"http://127.0.0.1:{self.ports.ingress}/webhook"

    def start(self, timeout: float = 120.0) -> float:
        t0 = time.monotonic()
        self.stack.check_ports()
        self.stack.start_infra()
        self.stack.start_services()
        self.wait_ready(timeout)
        return time.monotonic() - t0

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.stack.poll()
            if self.stack.all_ready():
                return
            dead = self.stack.exited()
            if dead:
                raise RuntimeError(f"{dead[0].spec.name} {dead[0].state}; see {self.stack.logs}")
            if time.monotonic() > deadline:
                waiting = [c.spec.name for c in self.stack.children if not c.ready]
                raise TimeoutError(f"not ready after {timeout:.0f}s: {waiting}; see {self.stack.logs}")
            time.sleep(0.3)

    def child(self, name: str) -> Child:
        return next(c for c in self.stack.children if c.spec.name == name)

    def pids(self) -> dict[str, int]:
        out = {c.spec.name: c.process.pid for c in self.stack.children}
        out.update({s.name: s.process.pid for s in self.stack.servers})
        return out

    def kill(self, name: str) -> None:
        """SIGKILL one service (no drain, no commit) and start it again with the same command and environment."""
        c = self.child(name)
        c.process.send_signal(signal.SIGKILL)
        c.process.wait()
        log = open(self.stack.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        c.process = subprocess.Popen(c.spec.argv, env={**self.stack.env, **dict(c.spec.env)}, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        c.ready = False

    def broker_signal(self, sig: signal.Signals) -> None:
        broker = next(s for s in self.stack.servers if s.name == "broker")
        broker.process.send_signal(sig)

    def stop(self) -> None:
        self.stack.stop()


@contextmanager
def paused(pids: list[int]) -> Iterator[None]:
    """SIGSTOP these processes for the block (to measure one service without the rest competing for the CPU)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def rss_mib(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc/<pid>/status."""
    cur = peak = 0.0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    cur = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return cur, peak


def sim_post(sim_url: str, path: str, body: dict[str, object] | None = None) -> None:
    httpx.post(sim_url + path, json=body or {}, timeout=10).raise_for_status()


def sim_messages(sim_url: str) -> list[dict[str, object]]:
    r = httpx.get(sim_url + "/_sim/messages", timeout=60)
    r.raise_for_status()
    msgs: list[dict[str, object]] = r.json()["messages"]
    return msgs


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
