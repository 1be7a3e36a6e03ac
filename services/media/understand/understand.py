"""Understand one piece of media: what the customer said in it, and what it shows.

`text` is the customer's own words: a voice note's transcript, or the caption of a photo, video or document.
The rest is context: the text printed in an image, a recognised payment receipt, a vision model's description,
a document's text. A model that is down costs bounded retries, then the part is listed in `failures` and the
message goes on without it: no customer message is lost because a transcriber or vision model failed.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from schemas.meta.media import MediaKind
from services.media.understand.document import DocumentText, document_text
from services.media.understand.receipt import recognize_receipt
from services.media.understand.types import (
    Describer,
    Receipt,
    TextReader,
    Transcriber,
    Transcript,
    UnderstandingFailed,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Understood:
    kind: MediaKind
    text: str
    transcript: Transcript | None = None
    ocr_text: str | None = None
    receipt: Receipt | None = None
    description: str | None = None
    document: DocumentText | None = None
    failures: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step: transcription, ocr, vision, ...


class MediaUnderstanding:
    def __init__(self, *, transcriber: Transcriber | None = None, reader: TextReader | None = None,
                 describer: Describer | None = None, document_max_chars: int = 4000, attempts: int = 2,
                 backoff_s: float = 0.5, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.transcriber = transcriber
        self.reader = reader
        self.describer = describer
        self.document_max_chars = document_max_chars
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._sleep = sleep
        self._clock = clock

    async def _step(self, name: str, call: Callable[[], Awaitable[T]], failures: list[str],
                    timings: dict[str, float]) -> T | None:
        started = self._clock()
        try:
            for attempt in range(1, self._attempts + 1):
                try:
                    return await call()
                except UnderstandingFailed as e:
                    if not e.transient or attempt == self._attempts:
                        log.warning("media %s failed after %d attempt(s): %s", name, attempt, e)
                        failures.append(f"{name}_failed")
                        return None
                await self._sleep(random.uniform(0, self._backoff_s * 2 ** (attempt - 1)))
            return None
        finally:
            timings[name] = round(self._clock() - started, 4)

    async def understand(self, kind: MediaKind, data: bytes, mime_type: str, *,
                         caption: str | None = None) -> Understood:
        caption = (caption or "").strip()
        failures: list[str] = []
        timings: dict[str, float] = {}
        if kind == "audio":
            if self.transcriber is None:
                return Understood(kind, "", failures=("transcription_unavailable",))
            transcriber = self.transcriber
            transcript = await self._step("transcription", lambda: transcriber.transcribe(data, mime_type),
                                          failures, timings)
            return Understood(kind, transcript.text if transcript else "", transcript=transcript,
                              failures=tuple(failures), timings=timings)
        if kind in ("image", "sticker"):
            ocr_text = receipt = description = None
            if kind == "image" and self.reader is not None:
                reader = self.reader
                ocr_text = await self._step("ocr", lambda: reader.read_text(data, mime_type), failures, timings)
                receipt = recognize_receipt(ocr_text) if ocr_text else None
            if self.describer is not None:
                describer = self.describer
                description = await self._step("vision", lambda: describer.describe(data, mime_type), failures,
                                               timings)
            return Understood(kind, caption, ocr_text=ocr_text or None, receipt=receipt, description=description,
                              failures=tuple(failures), timings=timings)
        if kind == "document":
            document = await self._step("document", lambda: _document(data, mime_type, self.document_max_chars),
                                        failures, timings)
            return Understood(kind, caption, document=document, failures=tuple(failures), timings=timings)
        return Understood(kind, caption)  # video: the caption and the fact that a video was sent


async def _document(data: bytes, mime_type: str, max_chars: int) -> DocumentText | None:
    return await document_text(data, mime_type, max_chars)
