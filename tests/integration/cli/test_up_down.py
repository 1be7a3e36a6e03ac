"""`wapipe up` ends with its whole stack however it is ended (SIGHUP, SIGTERM, even SIGKILL), refuses to start
beside a stack still running from its state folder, and `wapipe down` stops such a stack.

Each test runs its own small stack (broker, Redis, topics, store and the simulator) on a private free port range
and in a private state folder, so it never meets a developer's `wapipe up` or another test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wapipe_tools.local import pids
from wapipe_tools.local.ports import SERVICES, StackPorts
from wapipe_tools.local.ready import NotReady, wait_until
from wapipe_tools.local.servers import free_port_base, port_is_free

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
WITHOUT = [arg for name in SERVICES for arg in ("--without", name)]  # the simulator is the one service left


def wapipe(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wapipe_tools.cli.main", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


@dataclass
class Up:
    state: Path
    ports: StackPorts
    process: subprocess.Popen[bytes]
    output: Path

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def children(self) -> list[pids.Entry]:
        return [e for e in pids.read(self.state) if e.name != pids.SUPERVISOR]

    def assert_all_gone(self, children: list[pids.Entry]) -> None:
        assert pids.wait_gone(children, timeout=60), [e for e in children if pids.alive(e)]
        # A killed server's connections linger a moment in the kernel (FIN-WAIT) after its process is gone, and
        # hold its port until they close: poll, with a generous deadline.
        ports = (self.ports.broker, self.ports.redis, self.ports.simulator)
        deadline = time.monotonic() + 60
        while not all(port_is_free(p) for p in ports) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [p for p in ports if not port_is_free(p)] == []


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Up]]:
    started: list[Up] = []

    def _start(state: Path | None = None) -> Up:
        state = state or tmp_path / "state"
        ports = StackPorts.from_base(free_port_base())
        output = tmp_path / f"up-{len(started)}.out"
        with open(output, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "wapipe_tools.cli.main", "up", "--no-live", "--state-dir",
                                     str(state), "--port-base", str(ports.broker), "--timeout", "120", *WITHOUT],
                                    cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        up = Up(state, ports, proc, output)
        started.append(up)

        def exited() -> str | None:
            return None if proc.poll() is None else f"wapipe up exited ({proc.poll()})"

        try:
            wait_until(lambda: "stack ready" in up.text(), timeout=180, what="wapipe up to say ready", interval=0.2,
                       gave_up=exited)
        except NotReady as exc:
            pytest.fail(f"{exc}:\n{up.text()}")
        return up

    yield _start
    for up in started:  # whatever a failed test left behind
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()
        pids.stop(up.state, timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_hang_up_or_terminate_stops_the_whole_stack(start: Callable[..., Up], sig: signal.Signals) -> None:
    up = start()
    children = up.children()
    assert {e.name for e in children} == {"broker", "redis", "simulator"}
    assert all(pids.alive(e) for e in children)

    up.process.send_signal(sig)
    assert up.process.wait(90) == 0, up.text()
    up.assert_all_gone(children)
    assert "stopped" in up.text().splitlines()[-1]
    assert not (up.state / pids.FILE).exists() and not (up.state / "stack.json").exists()


def test_children_die_with_a_killed_supervisor_and_down_then_finds_nothing(start: Callable[..., Up]) -> None:
    up = start()
    children = up.children()
    up.process.send_signal(signal.SIGKILL)
    up.process.wait(30)
    up.assert_all_gone(children)  # no orphans holding the ports

    down = wapipe("down", "--state-dir", str(up.state))
    assert down.returncode == 0 and down.stdout.strip() == f"no stack running from {up.state}", down
    assert not (up.state / pids.FILE).exists()  # the stale file is cleared


def test_up_refuses_beside_a_running_stack_and_down_stops_it(start: Callable[..., Up]) -> None:
    up = start()
    children = up.children()

    again = wapipe("up", "--no-live", "--state-dir", str(up.state), *WITHOUT)
    assert again.returncode != 0
    assert again.stderr.strip().count("\n") == 0 and again.stdout == "", again
    assert f"supervisor pid {up.process.pid}" in again.stderr and "wapipe down --state-dir" in again.stderr
    assert all(pids.alive(e) for e in children)  # the running stack was left alone

    down = wapipe("down", "--state-dir", str(up.state))
    assert down.returncode == 0, down
    assert down.stdout.startswith("stopped 4 processes") and f"supervisor ({up.process.pid})" in down.stdout
    assert up.process.wait(30) == 0, up.text()  # it stopped its children itself, in order
    up.assert_all_gone(children)
    assert wapipe("down", "--state-dir", str(up.state)).returncode == 0
