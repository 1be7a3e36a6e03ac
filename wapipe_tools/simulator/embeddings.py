"""A deterministic OpenAI-compatible `/v1/embeddings`: each text's words (lower-cased, accents folded, padded)
as hashed character trigrams in a fixed-size, L2-normalised vector, so words sharing most of their letters
("zapatilla", "zapatillas") are near. Failures are set through `POST /_sim/embeddings`."""

from __future__ import annotations

import hashlib
import math
import unicodedata
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

router = APIRouter()
DIMENSIONS = 256


def vector(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    folded = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    out = [0.0] * dimensions
    for word in "".join(c if c.isalnum() else " " for c in folded).split():
        padded = f"#{word}#"
        for i in range(len(padded) - 2):
            h = int.from_bytes(hashlib.blake2b(padded[i:i + 3].encode(), digest_size=4).digest(), "big")
            out[h % dimensions] += 1.0
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return [x / norm for x in out]


class EmbeddingsFailure(BaseModel):
    fail: bool = False


@router.post("/_sim/embeddings")
async def set_failure(body: EmbeddingsFailure, request: Request) -> dict[str, bool]:
    request.app.state.embeddings_fail = body.fail
    return {"fail": body.fail}


@router.post("/v1/embeddings", response_model=None)
async def embeddings(request: Request) -> dict[str, Any] | JSONResponse:
    if getattr(request.app.state, "embeddings_fail", False):
        return JSONResponse({"error": {"message": "simulated embeddings failure", "type": "server_error"}},
                            status_code=503)
    body = await request.json()
    texts = body.get("input", [])
    texts = [texts] if isinstance(texts, str) else list(texts)
    data = [{"object": "embedding", "index": i, "embedding": vector(str(t))} for i, t in enumerate(texts)]
    tokens = sum(len(str(t)) // 4 + 1 for t in texts)
    return {"object": "list", "data": data, "model": body.get("model", "sim-embeddings"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
