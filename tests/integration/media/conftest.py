"""The simulator on a free port with a media clock the test moves, and a downloader pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from wapipe.media.download import MediaDownloader, new_client
from wapipe.media.limits import MediaLimits
from wapipe.net.guard import OutboundGuard
from wapipe_tools.simulator.media import MediaStore
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

TOKEN = "dev-access-token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Stands in for asyncio.sleep in the downloader's backoff: records the delays, waits for none."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None, media=MediaStore(clock=Clock()))) as s:
        yield s


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = new_client(5.0)
    try:
        yield client
    finally:
        await client.aclose()


def dev_guard() -> OutboundGuard:
    return OutboundGuard(["127.0.0.1"], allow_private=True, allow_http=True)


def downloader(sim: BackgroundSimulator, http: httpx.AsyncClient, *, guard: OutboundGuard | None = None,
               limits: MediaLimits | None = None, token: str = TOKEN, sleeps: Sleeps | None = None,
               **kw: Any) -> MediaDownloader:
    return MediaDownloader(http, graph_url=sim.url, version="v25.0", access_token=token,
                           guard=guard or dev_guard(), limits=limits or MediaLimits(), sleep=sleeps or Sleeps(), **kw)


def register(sim: BackgroundSimulator, data: bytes, mime: str, **params: object) -> dict[str, Any]:
    r = httpx.post(f"{sim.url}/_sim/media", content=data, headers={"Content-Type": mime}, params=params)
    r.raise_for_status()
    doc: dict[str, Any] = r.json()
    return doc


@pytest.fixture(scope="session")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The embedded transcriber with the packaged model, loaded once for the session (a few seconds)."""
    pytest.importorskip("faster_whisper", reason="the [media] extra is not installed: pip install -e '.[media]'")
    from services.media.understand.whisper import LocalWhisper
    from services.media.understand.whisper_model import packaged_model

    model = LocalWhisper(packaged_model(tmp_path_factory.mktemp("models")))
    model.load()
    return model
