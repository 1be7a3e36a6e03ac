"""`wapipe run media`: consume wa.inbound.v1, write wa.inbound.understood.v1; health/metrics on 9106."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CollectorRegistry

from services.media.app import build_app
from services.media.build import build_downloader, build_object_store, build_understanding
from services.media.config import MediaSettings
from services.media.download import new_client
from services.media.handlers import Ports
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.whisper import LocalWhisper
from wapipe.logging import configure_logging
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.s3 import S3ObjectStore
from wapipe.runtime.producer import Producer
from wapipe.runtime.service import serve_worker

log = logging.getLogger(__name__)
EXPIRE_INTERVAL_S = 3600.0


async def _expire_periodically(store: FolderObjectStore) -> None:
    while True:
        removed = await store.expire()
        if removed:
            log.info("media store: %d expired object(s) deleted", removed)
        await asyncio.sleep(EXPIRE_INTERVAL_S)


async def run(s: MediaSettings) -> None:
    registry = CollectorRegistry()
    http = new_client(s.media_download_timeout_s)
    store = build_object_store(s)
    if isinstance(store, S3ObjectStore):
        await store.ensure_bucket()
    understanding = build_understanding(s)
    if isinstance(understanding.transcriber, LocalWhisper):
        await asyncio.to_thread(understanding.transcriber.load)  # before the first voice note, not during it
    producer = Producer(s.kafka_bootstrap_servers, topic_prefix=s.topic_prefix)
    ports = Ports(downloader=build_downloader(s, http), store=store, understander=understanding)
    app = build_app(s, ports, producer=producer, registry=registry)
    sweeper = asyncio.create_task(_expire_periodically(store)) if isinstance(store, FolderObjectStore) else None

    async def stop_sweeper() -> None:
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    closers = [stop_sweeper, http.aclose, store.aclose]
    if isinstance(understanding.transcriber, OpenAITranscriber):
        closers.append(understanding.transcriber.aclose)
    await serve_worker(app.worker, port=s.media_metrics_port, registry=registry, on_shutdown=closers)


def main() -> None:
    s = MediaSettings()
    configure_logging("media", production=s.production, level=s.log_level, fmt=s.log_format)
    asyncio.run(run(s))
