"""OpenAI-compatible `POST /v1/audio/transcriptions` with a deterministic stand-in for the speech model.

The transcript is the one a test registered with the media (`POST /_sim/media?transcript=...`, matched by the
sha256 of the uploaded file); a file that is UTF-8 text is its own transcript; anything else gets a fixed text
naming its size. Latency and failures follow `POST /_sim/llm`, like the chat endpoint.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from wapipe_tools.simulator.llm import authorized, injected_failure, openai_error
from wapipe_tools.simulator.state import SimState

router = APIRouter(prefix="/v1")

# verbose_json names the language in English words, like OpenAI's API does.
LANGUAGE_NAMES = {"es": "spanish", "en": "english", "pt": "portuguese", "fr": "french"}
FORMATS = ("json", "text", "verbose_json")


def transcript_for(state: SimState, data: bytes) -> tuple[str, str]:
    """(text, ISO language) for these bytes."""
    known = state.media.by_sha256(hashlib.sha256(data).hexdigest())
    if known is not None and known.transcript is not None:
        return known.transcript, known.language or "es"
    if b"\x00" not in data:
        try:
            return data.decode("utf-8").strip(), "es"
        except UnicodeDecodeError:
            pass
    return f"audio de {len(data)} bytes", "es"


@router.post("/audio/transcriptions")
async def transcriptions(request: Request) -> Response:
    state: SimState = request.app.state.sim
    if not authorized(request, state):
        return openai_error(401, "Incorrect API key provided", "invalid_api_key")
    try:
        form = await request.form()
    except StarletteHTTPException:
        return openai_error(400, "expected multipart/form-data", "invalid_request_error")
    file, model = form.get("file"), form.get("model")
    if not isinstance(file, UploadFile):
        return openai_error(400, "file is required", "invalid_request_error")
    if not isinstance(model, str) or not model:
        return openai_error(400, "model is required", "invalid_request_error")
    fmt = str(form.get("response_format") or "json")
    if fmt not in FORMATS:
        return openai_error(400, f"response_format must be one of {', '.join(FORMATS)}", "invalid_request_error")
    data = await file.read()
    if not data:
        return openai_error(400, "Audio file is empty", "invalid_request_error")
    if (injected := await injected_failure(state)) is not None:
        return injected
    text, language = transcript_for(state, data)
    asked = form.get("language")
    language = asked if isinstance(asked, str) and asked else language
    if fmt == "text":
        return PlainTextResponse(text)
    if fmt == "json":
        return JSONResponse({"text": text})
    duration = round(0.4 * max(1, len(text.split())), 2)
    return JSONResponse({"task": "transcribe", "language": LANGUAGE_NAMES.get(language, language),
                         "duration": duration, "text": text,
                         "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text,
                                       "avg_logprob": -0.2, "no_speech_prob": 0.01}]})
