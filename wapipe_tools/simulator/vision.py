"""Image input for the simulated model: `image_url` content parts, as OpenAI's chat completions take them.

A `data:` URL is decoded and matched by sha256 against media registered with `POST /_sim/media?description=...`;
that description is what the model "sees". Unknown images get a fixed description built from their type and size.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from wapipe_tools.simulator.state import SimState


def image_parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [p for p in content if isinstance(p, dict) and p.get("type") == "image_url"]


def describe_image(state: SimState, part: dict[str, Any]) -> str:
    """What the stand-in model says an image shows; ValueError for a part OpenAI would refuse."""
    ref = part.get("image_url")
    url = ref.get("url") if isinstance(ref, dict) else None
    if not isinstance(url, str) or not url:
        raise ValueError("image_url.url is required")
    if url.startswith(("http://", "https://")):
        return f"una imagen enlazada ({url.rsplit('/', 1)[-1][:40]})"
    if not url.startswith("data:") or ";base64," not in url:
        raise ValueError("Invalid image URL: expected a data: URL with base64 content or an http(s) URL")
    header, encoded = url[5:].split(";base64,", 1)
    if not header.startswith("image/"):
        raise ValueError(f"Invalid image type {header!r}")
    try:
        data = base64.b64decode(encoded, validate=True)
    except binascii.Error as e:
        raise ValueError("Invalid base64 image data") from e
    known = state.media.by_sha256(hashlib.sha256(data).hexdigest())
    if known is not None and known.description:
        return known.description
    return f"una imagen {header} de {len(data)} bytes"
