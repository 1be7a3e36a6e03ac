"""One whole local stack per e2e module: `wapipe up --no-live` as a subprocess, with a replay sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wapipe_tools.local import pids
from wapipe_tools.local.ports import LOCAL_PORTS, port_owner
from wapipe_tools.local.ready import NotReady, wait_until
from wapipe_tools.local.servers import port_is_free

REPO = Path(__file__).resolve().parents[2]
SANDBOX = "e2e"


@dataclass
class LocalStack:
    state: Path
    process: subprocess.Popen[bytes]
    output: Path

    @property
    def info(self) -> dict[str, object]:
        doc: dict[str, object] = json.loads((self.state / "stack.json").read_text())
        return doc

    def pid(self, service: str) -> int:
        services = self.info["services"]
        assert isinstance(services, dict)
        return int(services[service]["pid"])

    def wapipe(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wapipe_tools.cli.main", *args], cwd=REPO, capture_output=True,
                              text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """`STACK_ENV` in a test module: settings on top of the stack's own for that module's stack."""
    taken = [p for p in LOCAL_PORTS.served() if not port_is_free(p)]
    if taken:
        pytest.skip(f"the local stack's port {taken[0]} is in use by {port_owner(taken[0])}")
    state = tmp_path_factory.mktemp("stack")
    output = state / "up.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wapipe_tools.cli.main", "up", "--no-live", "--state-dir",
                                 str(state), "--sandbox", SANDBOX, "--timeout", "180"],
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                # the Whisper model loads at the first voice note: most modules never send one
                                env={**os.environ, "WAPIPE_MEDIA_WHISPER_PRELOAD": "false",
                                     **getattr(request.module, "STACK_ENV", {})})
    s = LocalStack(state, proc, output)
    try:
        def exited() -> str | None:
            return None if proc.poll() is None else f"wapipe up exited ({proc.poll()})"

        try:
            wait_until(lambda: b"stack ready" in output.read_bytes(), timeout=240, what="wapipe up to say ready",
                       interval=0.5, gave_up=exited)
        except NotReady as exc:
            pytest.fail(f"{exc}:\n{output.read_text()}")
        yield s
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        pids.stop(state, timeout=10)  # what `wapipe down` does: nothing, unless the stop above fell short
