"""Transcriber on an OpenAI-compatible `/v1/audio/transcriptions` (OpenAI, Groq, a faster-whisper or vLLM server).

One `AsyncOpenAI` client with an explicit timeout and the SDK's own retries off (the stage decides on retries).
`verbose_json` is asked for, since it names the language; a server that refuses it is asked again for plain
`json`. OpenAI names languages in English words ("spanish"); they are mapped to ISO codes.
"""

from __future__ import annotations

from typing import Any

import openai

from schemas.meta.media import base_mime
from services.media.understand.types import Transcript, UnderstandingFailed

LANGUAGE_CODES = {"spanish": "es", "english": "en", "portuguese": "pt", "french": "fr", "italian": "it",
                  "german": "de", "catalan": "ca", "galician": "gl", "basque": "eu", "quechua": "qu"}
EXTENSIONS = {"audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/aac": "aac", "audio/amr": "amr",
              "audio/wav": "wav", "audio/webm": "webm"}


def language_code(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    v = value.strip().lower()
    return v if len(v) == 2 else LANGUAGE_CODES.get(v, v)


class OpenAITranscriber:
    def __init__(self, base_url: str, api_key: str, model: str = "whisper-1", timeout_s: float = 60.0,
                 client: openai.AsyncOpenAI | None = None) -> None:
        self.model = model
        self.name = f"openai-compatible/{model}"
        self._client = client or openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s,
                                                    max_retries=0)
        self._verbose = True

    async def transcribe(self, data: bytes, mime_type: str) -> Transcript:
        mime = base_mime(mime_type)
        file = (f"audio.{EXTENSIONS.get(mime, 'ogg')}", data, mime)
        try:
            if self._verbose:
                try:
                    r: Any = await self._client.audio.transcriptions.create(model=self.model, file=file,
                                                                            response_format="verbose_json")
                    return Transcript(text=str(r.text).strip(), language=language_code(getattr(r, "language", None)),
                                      model=self.name, duration_s=getattr(r, "duration", None))
                except openai.BadRequestError:
                    self._verbose = False  # this server only speaks json
            r = await self._client.audio.transcriptions.create(model=self.model, file=file)
            return Transcript(text=str(r.text).strip(), language=None, model=self.name)
        except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                openai.InternalServerError) as e:
            raise UnderstandingFailed(f"transcription: {type(e).__name__}", transient=True) from e
        except openai.APIStatusError as e:
            raise UnderstandingFailed(f"transcription: HTTP {e.status_code}", transient=e.status_code >= 500) from e

    async def aclose(self) -> None:
        await self._client.close()
