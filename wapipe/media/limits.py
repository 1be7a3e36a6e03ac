"""What the media stage (and the sender, uploading) accepts: mime types (Meta's by default) and a size cap per kind."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.meta.media import MIB, SUPPORTED_TYPES, MediaKind, base_mime, kind_of

META_TYPES = frozenset().union(*SUPPORTED_TYPES.values())
# Meta's media hosts: the Graph API and the CDN its media URLs point at (lookaside.fbsbx.com today). A leading dot
# admits every subdomain.
META_MEDIA_HOSTS = "graph.facebook.com,lookaside.fbsbx.com,.fbsbx.com,.fbcdn.net,.whatsapp.net"


@dataclass(frozen=True)
class MediaLimits:
    """Caps default to Meta's own limits for what customers send: 16 MiB audio/image/video, 100 MiB documents."""

    audio_bytes: int = 16 * MIB
    image_bytes: int = 16 * MIB
    video_bytes: int = 16 * MIB
    document_bytes: int = 100 * MIB
    mime_types: frozenset[str] = field(default=META_TYPES)

    def allowed(self, mime_type: str) -> bool:
        return base_mime(mime_type) in self.mime_types

    def cap_for(self, mime_type: str) -> int:
        kind: MediaKind | None = kind_of(mime_type)
        if kind == "audio":
            return self.audio_bytes
        if kind in ("image", "sticker"):
            return self.image_bytes
        if kind == "video":
            return self.video_bytes
        return self.document_bytes  # documents, and any other type an operator allowed
