"""`wapipe run media`: consume wa.inbound.v1, write wa.inbound.understood.v1; health/metrics on 9106."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from services.media.app import build_app
from services.media.build import build_downloader, build_object_store, build_understanding
from services.media.config import MediaSettings
from services.media.handlers import Ports
from services.media.understand.openai_transcriber import OpenAITranscriber
from services.media.understand.vision import OpenAIDescriber
from services.media.understand.whisper import LocalWhisper
from wapipe.logging import configure_logging
from wapipe.media.download import new_client
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.owners import MediaOwners
from wapipe.objectstore.s3 import S3ObjectStore
from wapipe.runtime import loop
from wapipe.runtime.service import Closer, Resources, Runnable, Service, run_consumer
from wapipe.settings import settings_or_exit

log = logging.getLogger(__name__)
EXPIRE_INTERVAL_S = 3600.0


class Sweeper:
    """Deletes the folder store's expired objects once an hour (S3 expires them by its lifecycle rule)."""

    def __init__(self, store: FolderObjectStore) -> None:
        self._store, self._stop = store, asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            removed = await self._store.expire()
            if removed:
                log.info("media store: %d expired object(s) deleted", removed)
            try:
                await asyncio.wait_for(self._stop.wait(), EXPIRE_INTERVAL_S)
            except TimeoutError:
                continue

    async def stop(self) -> None:
        self._stop.set()


async def build(s: MediaSettings, r: Resources) -> Service:
    http = new_client(s.media_download_timeout_s)
    store = build_object_store(s)
    if isinstance(store, S3ObjectStore):
        await store.ensure_bucket()
    understanding = build_understanding(s)
    if isinstance(understanding.transcriber, LocalWhisper) and s.media_whisper_preload:
        await asyncio.to_thread(understanding.transcriber.load)  # before the first voice note, not during it
    ports = Ports(downloader=build_downloader(s, http), store=store, understander=understanding,
                  owners=MediaOwners(r.redis, ttl_s=s.media_retention_days * 86400))
    app = build_app(s, ports, producer=r.producer, registry=r.registry)
    background: list[Runnable] = [Sweeper(store)] if isinstance(store, FolderObjectStore) else []
    closers: list[Closer] = [http.aclose, store.aclose]
    if isinstance(understanding.transcriber, OpenAITranscriber):
        closers.append(understanding.transcriber.aclose)
    if isinstance(understanding.describer, OpenAIDescriber):
        closers.append(understanding.describer.aclose)
    return Service("media", [app.worker], background=background, closers=closers)


def main() -> None:
    s = settings_or_exit(MediaSettings, "media")
    configure_logging("media", production=s.production, level=s.log_level, fmt=s.log_format)
    loop.run(run_consumer(s, partial(build, s), port=s.media_metrics_port, host=s.media_host), s.event_loop)
