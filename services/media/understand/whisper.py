"""Transcriber on the embedded model: faster-whisper (CTranslate2) on CPU, offline.

The model loads once per process (`load()`, a few seconds; call it at start so the first voice note does not
wait) and transcribes one clip at a time in a worker thread: CTranslate2 already uses every core for one clip,
so running two at once would only make both slower. faster-whisper decodes OGG/Opus, MP3, AAC, AMR and MP4
audio itself (PyAV), so no ffmpeg is needed at run time.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from pathlib import Path
from typing import Any

from services.media.understand.types import Transcript, UnderstandingFailed

log = logging.getLogger(__name__)


class LocalWhisper:
    def __init__(self, model_dir: str | Path, *, model_name: str = "whisper-base", compute_type: str = "int8",
                 cpu_threads: int = 0, beam_size: int = 5, language: str | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.name = f"faster-whisper/{model_name}"
        self._compute_type = compute_type
        self._cpu_threads = cpu_threads
        self._beam_size = beam_size
        self._language = language
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._slot = asyncio.Semaphore(1)

    def load(self) -> None:
        """Load the model (idempotent; blocking: call it off the event loop or before it starts)."""
        with self._load_lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(str(self.model_dir), device="cpu", compute_type=self._compute_type,
                                           cpu_threads=self._cpu_threads, local_files_only=True)
                log.info("whisper model loaded from %s (%s)", self.model_dir, self._compute_type)

    async def transcribe(self, data: bytes, mime_type: str) -> Transcript:
        async with self._slot:
            return await asyncio.to_thread(self._run, data)

    def _run(self, data: bytes) -> Transcript:
        self.load()
        try:
            segments, info = self._model.transcribe(io.BytesIO(data), beam_size=self._beam_size,
                                                    language=self._language)
            text = " ".join(s.text.strip() for s in segments).strip()  # the generator does the decoding
        except Exception as e:  # PyAV and CTranslate2 raise their own types for undecodable audio
            raise UnderstandingFailed(f"cannot transcribe: {type(e).__name__}", transient=False) from e
        return Transcript(text=text, language=info.language, model=self.name,
                          confidence=round(float(info.language_probability), 3),
                          duration_s=round(float(info.duration), 3))
