"""Meta's media: the media object (`GET /{version}/{media_id}`), the types the Cloud API takes, and its size limits.

The simulator answers with these; the media stage reads them. `file_size` arrives as a number or as a numeric
string depending on the API version, so both are accepted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MediaKind = Literal["audio", "document", "image", "sticker", "video"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("audio", "document", "image", "sticker", "video")

MIB = 1024 * 1024

# What the Cloud API accepts per kind (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media).
SUPPORTED_TYPES: dict[MediaKind, frozenset[str]] = {
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
    "document": frozenset({
        "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }),
    "image": frozenset({"image/jpeg", "image/png"}),
    "sticker": frozenset({"image/webp"}),
    "video": frozenset({"video/3gpp", "video/mp4"}),
}

# Meta's upload limits per kind (bytes); an animated sticker may be 500 KB, a static one 100 KB.
UPLOAD_LIMITS: dict[MediaKind, int] = {
    "audio": 16 * MIB, "document": 100 * MIB, "image": 5 * MIB, "sticker": 500 * 1024, "video": 16 * MIB,
}


_LOOKUP_ORDER: tuple[MediaKind, ...] = ("sticker", "image", "audio", "video", "document")


def base_mime(mime_type: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg` (lower case, parameters dropped)."""
    return mime_type.split(";", 1)[0].strip().lower()


def kind_of(mime_type: str) -> MediaKind | None:
    """The kind Meta files this mime type under; stickers (webp) before images. None when Meta takes no such type."""
    mime = base_mime(mime_type)
    for kind in _LOOKUP_ORDER:
        if mime in SUPPORTED_TYPES[kind]:
            return kind
    return None


class MediaInfo(BaseModel):
    """The answer of `GET /{version}/{media_id}`: where to download the bytes (for about 5 minutes) and their hash."""

    model_config = ConfigDict(extra="allow")

    messaging_product: Literal["whatsapp"] = "whatsapp"
    id: str = Field(min_length=1)
    url: str = Field(min_length=1)
    mime_type: str = Field(min_length=1)
    sha256: str = Field(min_length=1)
    file_size: int = Field(ge=0)


class UploadResponse(BaseModel):
    """The answer of `POST /{version}/{phone_number_id}/media`."""

    id: str
