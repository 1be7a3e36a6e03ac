"""Inbound media events and fakes of the media handler's own ports."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from schemas.envelope import Trace, conversation_key, derive_id
from schemas.events import Media, MessageReceived, MessageReceivedPayload, Recipient
from schemas.meta.media import MediaKind
from services.media.understand.understand import Understood
from wapipe.media.download import Downloaded, DownloadResult, MediaUnavailable
from wapipe.objectstore.port import ObjectStoreUnavailable, StoredObject

TENANT = "100000000000001"
AT = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)


def message(message_type: str = "text", *, text: str | None = "hola", wamid: str = "wamid.M1",
            wa_id: str = "573001112233", media: Media | None = None) -> MessageReceived:
    sender = Recipient(wa_id=wa_id)
    return MessageReceived(
        event_id=derive_id("in", wamid), occurred_at=AT, tenant=TENANT, conversation=conversation_key(TENANT, wa_id),
        correlation_id=wamid, trace=Trace(received_at=AT),
        payload=MessageReceivedPayload(message_id=wamid, sender=sender, timestamp=AT, message_type=message_type,
                                       text=text, media=media))


def downloaded(data: bytes, mime: str = "audio/ogg; codecs=opus") -> Downloaded:
    return Downloaded(media_id="m1", data=data, mime_type=mime, sha256=hashlib.sha256(data).hexdigest(),
                      attempts=1, duration_s=0.01)


@dataclass
class FakeDownloader:
    results: dict[str, DownloadResult] = field(default_factory=dict)
    calls: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    async def download(self, media_id: str, *, phone_number_id: str | None = None,
                       expected_sha256: str | None = None) -> DownloadResult:
        self.calls.append((media_id, phone_number_id, expected_sha256))
        return self.results.get(media_id) or MediaUnavailable(media_id, "not_found", "unknown in the fake")


@dataclass
class FakeUnderstander:
    answers: dict[MediaKind, Understood] = field(default_factory=dict)
    calls: list[tuple[MediaKind, bytes, str, str | None]] = field(default_factory=list)

    async def understand(self, kind: MediaKind, data: bytes, mime_type: str, *,
                         caption: str | None = None) -> Understood:
        self.calls.append((kind, data, mime_type, caption))
        return self.answers.get(kind) or Understood(kind, caption or "")


@dataclass
class DownStore:
    """An object store whose backend is unreachable."""

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        raise ObjectStoreUnavailable("S3 unreachable: EndpointConnectionError")

    async def get(self, key: str) -> StoredObject | None:
        raise ObjectStoreUnavailable("S3 unreachable")

    async def exists(self, key: str) -> bool:
        raise ObjectStoreUnavailable("S3 unreachable")

    async def delete(self, key: str) -> bool:
        raise ObjectStoreUnavailable("S3 unreachable")

    async def delete_prefix(self, prefix: str) -> int:
        raise ObjectStoreUnavailable("S3 unreachable")

    async def aclose(self) -> None:
        return None
