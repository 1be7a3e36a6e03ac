"""Run the simulator with uvicorn: in the foreground (`wapipe simulator`) or in a background thread (tests)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn

from wapipe.settings import CommonSettings
from wapipe_tools.local.servers import free_port
from wapipe_tools.simulator.app import create_app
from wapipe_tools.simulator.state import SimState

NOT_DEV = ("the simulator refuses to start outside dev mode: it plays Meta's Graph API and a model, signs "
           "webhooks with whatever app secret it is given and accepts the public development tokens, so it must "
           "never stand where a real endpoint is expected. Only the local stack and the tests run it "
           "(WAPIPE_ENV=dev).")


class NotDevMode(RuntimeError):
    """The simulator was asked to start in a process that is not in dev mode."""


def require_dev_mode(settings: CommonSettings | None = None) -> None:
    """Raise `NotDevMode` unless `WAPIPE_ENV=dev` (read from the environment when no settings are given)."""
    if not (settings or CommonSettings()).dev:
        raise NotDevMode(NOT_DEV)


def run(state: SimState, host: str = "127.0.0.1", port: int = 8090, log_level: str = "info") -> None:
    require_dev_mode()
    uvicorn.run(create_app(state), host=host, port=port, log_level=log_level)


class BackgroundSimulator:
    """The simulator on a free loopback port in a daemon thread; `url` is its base address.

    with BackgroundSimulator(SimState(ingress_url=None)) as sim: httpx.get(f"{sim.url}/_sim/messages")
    """

    def __init__(self, state: SimState | None = None, port: int | None = None) -> None:
        self.state = state or SimState()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(self.state), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="wapipe-simulator", daemon=True)

    def start(self, timeout: float = 10.0) -> BackgroundSimulator:
        require_dev_mode()
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> BackgroundSimulator:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
