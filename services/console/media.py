"""What the console shows of a customer's media message: `card_of` (pure) reads the media stage's understanding
on wa.inbound.understood.v1 into a `MediaCard`, `RedisMediaCards` keeps the cards per conversation, and
`media_response_headers` are the headers the console serves stored bytes with (its own, tenant-scoped route; the
bytes never get a public URL).

Keys (30 days, like the rest of the console's index; erased with the conversation, `wapipe/privacy/redis_keys.py`):
  `wapipe:console:media:{conv}`  hash: message id -> the card as JSON
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

import redis.asyncio as aioredis

from schemas.envelope import Envelope
from schemas.events import MessageReceived
from wapipe.redis import KEY_PREFIX

Kind = Literal["image", "audio", "document", "video", "other"]
KEY = f"{KEY_PREFIX}console:media:"
TTL_S = 30 * 24 * 3600
PREVIEW_LINES = 5
PREVIEW_CHARS = 600
INLINE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif", "audio/ogg", "audio/mpeg", "audio/mp4",
                "audio/aac", "audio/amr", "audio/opus", "audio/wav", "video/mp4", "video/3gpp")


@dataclass(frozen=True)
class MediaCard:
    message_id: str
    kind: Kind
    mime_type: str
    status: str  # understood, unavailable
    object_key: str | None = None
    reason: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    transcript: str | None = None
    description: str | None = None
    ocr_text: str | None = None
    preview: str | None = None  # a document's first lines
    pages: int | None = None
    receipt: dict[str, str] = field(default_factory=dict)

    @property
    def servable(self) -> bool:
        return self.status == "understood" and self.object_key is not None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> MediaCard:
        return cls(**json.loads(raw))


def kind_of(message_type: str) -> Kind:
    if message_type in ("image", "sticker"):
        return "image"
    if message_type in ("audio", "voice"):
        return "audio"
    if message_type in ("document", "video"):
        return message_type  # type: ignore[return-value]
    return "other"


def first_lines(text: str | None) -> str | None:
    if not text:
        return None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:PREVIEW_LINES]
    return "\n".join(lines)[:PREVIEW_CHARS] or None


def card_of(event: Envelope) -> MediaCard | None:
    """The card of a media message the media stage handled, or None (texts, echoes, consent changes)."""
    if not isinstance(event, MessageReceived) or event.payload.understanding is None:
        return None
    p, u = event.payload, event.payload.understanding
    media = p.media
    receipt = {k: str(v) for k, v in (u.receipt.model_dump(exclude_none=True) if u.receipt else {}).items()}
    key = u.object_key if u.object_key and u.object_key.startswith(f"{event.tenant}/") else None
    return MediaCard(p.message_id, kind_of(p.message_type), (media.mime_type if media else None) or "",
                     u.status, key, u.reason, media.caption if media else None, media.filename if media else None,
                     bool(media and media.voice), u.transcript, u.description, u.ocr_text,
                     first_lines(u.document_text), u.document_pages, receipt)


def serve_type(card: MediaCard, stored_type: str) -> str:
    """The Content-Type to serve: the type Meta reported (the store's otherwise), without parameters' surprises."""
    mime = (card.mime_type or stored_type or "application/octet-stream").split(";")[0].strip().lower()
    return mime or "application/octet-stream"


def media_response_headers(card: MediaCard, mime: str) -> dict[str, str]:
    """Images, audio and video inline (the page's <img>/<audio>); anything else only as a download. The bytes are
    the customer's: never sniffed into something else, never a script, never cached by a proxy."""
    disposition = "inline" if mime in INLINE_TYPES else "attachment"
    name = "".join(c for c in (card.filename or card.message_id) if c.isalnum() or c in "._-")[:100] or "media"
    return {"Content-Disposition": f'{disposition}; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Cross-Origin-Resource-Policy": "same-origin"}


class RedisMediaCards:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def put(self, conversation: str, card: MediaCard) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(f"{KEY}{conversation}", card.message_id, card.to_json())
        pipe.expire(f"{KEY}{conversation}", TTL_S)
        await pipe.execute()

    async def get(self, conversation: str, message_id: str) -> MediaCard | None:
        raw = await self.redis.hget(f"{KEY}{conversation}", message_id)
        return MediaCard.from_json(raw) if raw is not None else None

    async def all(self, conversation: str) -> dict[str, MediaCard]:
        raw = await self.redis.hgetall(f"{KEY}{conversation}")
        return {(k.decode() if isinstance(k, bytes) else str(k)): MediaCard.from_json(v) for k, v in raw.items()}
