"""What the simulator holds for media: uploaded bytes, their download URLs (5 minutes, like Meta's) and faults.

A download URL carries the media id, the time it was issued and an HMAC of both, so it cannot be forged or
extended; it answers 404 once `url_ttl_s` has passed on the store's `clock` (monotonic seconds by default; a test
passes a clock it moves by hand). Per-media faults let tests see every way Meta's media endpoints fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

MediaFaultKind = Literal["expired", "not_found", "wrong_sha256", "wrong_size", "slow", "graph_error"]
URL_TTL_S = 300.0


@dataclass
class MediaFault:
    """`expired`: the download URL answers 404 at once. `not_found`: the media endpoint answers Meta's 100/33.
    `wrong_sha256` / `wrong_size`: the media object misstates the bytes. `slow`: the download waits `delay_s`.
    `graph_error`: the media endpoint answers Meta's error `code` for the next `count` calls, then recovers."""

    kind: MediaFaultKind
    delay_s: float = 10.0
    code: int = 131016
    count: int = 1


@dataclass
class SimMedia:
    id: str
    data: bytes
    mime_type: str
    sha256: str
    phone_number_id: str | None = None
    filename: str | None = None
    transcript: str | None = None
    language: str | None = None
    description: str | None = None
    fault: MediaFault | None = None
    created_at: float = 0.0

    def info(self) -> dict[str, Any]:
        """What a test needs to reference this media in a webhook (the webhook's audio/image/... object).

        `sha256` is hex, as the media endpoint gives it; webhooks carry the same digest base64-encoded
        (`webhook_sha256`)."""
        digest = base64.b64encode(bytes.fromhex(self.sha256)).decode()
        return {"id": self.id, "mime_type": self.mime_type, "sha256": self.sha256, "webhook_sha256": digest,
                "file_size": len(self.data), "filename": self.filename, "transcript": self.transcript,
                "description": self.description}


@dataclass
class MediaStore:
    clock: Callable[[], float] = time.monotonic
    url_ttl_s: float = URL_TTL_S
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    items: dict[str, SimMedia] = field(default_factory=dict)

    def add(self, data: bytes, mime_type: str, **extra: Any) -> SimMedia:
        media_id = str(10**15 + secrets.randbelow(9 * 10**15))
        item = SimMedia(id=media_id, data=data, mime_type=mime_type, sha256=hashlib.sha256(data).hexdigest(),
                        created_at=self.clock(), **extra)
        self.items[media_id] = item
        return item

    def get(self, media_id: str) -> SimMedia | None:
        return self.items.get(media_id)

    def delete(self, media_id: str) -> bool:
        return self.items.pop(media_id, None) is not None

    def by_sha256(self, sha256: str) -> SimMedia | None:
        return next((m for m in self.items.values() if m.sha256 == sha256), None)

    def clear(self) -> None:
        self.items.clear()

    def sign(self, media_id: str, issued: float) -> str:
        return hmac.new(self.secret, f"{media_id}:{issued!r}".encode(), hashlib.sha256).hexdigest()[:32]

    def url_query(self, media_id: str) -> dict[str, str]:
        """Query parameters of a fresh download URL for this media."""
        issued = self.clock()
        return {"mid": media_id, "ext": repr(issued), "hash": self.sign(media_id, issued)}

    def resolve(self, mid: str, ext: str, sig: str) -> SimMedia | None:
        """The media a download URL points at, or None when the URL is forged, expired or its media is gone."""
        try:
            issued = float(ext)
        except ValueError:
            return None
        if not hmac.compare_digest(sig, self.sign(mid, issued)):
            return None
        if self.clock() - issued >= self.url_ttl_s:
            return None
        item = self.items.get(mid)
        if item is None or item.fault is not None and item.fault.kind == "expired":
            return None
        return item
