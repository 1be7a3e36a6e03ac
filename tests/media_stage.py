"""The media stage in a test's own pipeline, in front of guardrails as in production: it reads wa.inbound.v1 and
writes wa.inbound.understood.v1, which guardrails reads. Voice notes are not transcribed (no model loaded); the
tests that hear them run the whole stack (tests/e2e/test_media_flow.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from services.media.app import build_app
from services.media.build import build_downloader, build_object_store, build_understanding
from services.media.config import MediaSettings
from services.media.handlers import Ports
from wapipe.media.download import new_client
from wapipe.runtime.producer import Producer
from wapipe.runtime.worker import Worker


@dataclass
class MediaStage:
    worker: Worker
    close: Callable[[], Awaitable[None]]


def media_stage(*, kafka_bootstrap: str, topic_prefix: str, producer: Producer, folder: Path, group_id: str,
                graph_api_url: str = "http://127.0.0.1:9", access_token: str = "dev-access-token") -> MediaStage:
    s = MediaSettings(_env_file=None, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix,  # type: ignore[call-arg]
                      graph_api_url=graph_api_url, meta_access_token=SecretStr(access_token),
                      media_transcriber="none", media_dir=str(folder / "media"), media_download_attempts=1)
    http = new_client(s.media_download_timeout_s)
    ports = Ports(downloader=build_downloader(s, http), store=build_object_store(s),
                  understander=build_understanding(s))
    app = build_app(s, ports, producer=producer, registry=CollectorRegistry(), group_id=group_id)

    async def close() -> None:
        await http.aclose()
        await ports.store.aclose()

    return MediaStage(app.worker, close)
