"""The media handler's ports: fetch the bytes, and understand them (the object store port is in wapipe)."""

from __future__ import annotations

from typing import Protocol

from schemas.meta.media import MediaKind
from services.media.understand.understand import Understood
from wapipe.media.download import DownloadResult


class Downloader(Protocol):
    """`MediaDownloader`: the verified bytes of a media id, or why they cannot be had. Never raises for Meta."""

    async def download(self, media_id: str, *, phone_number_id: str | None = None,
                       expected_sha256: str | None = None) -> DownloadResult: ...


class Understander(Protocol):
    """`MediaUnderstanding`: what the bytes say. Failures of its models come back in `failures`."""

    async def understand(self, kind: MediaKind, data: bytes, mime_type: str, *,
                         caption: str | None = None) -> Understood: ...


class Owners(Protocol):
    """`wapipe.objectstore.owners.MediaOwners`: records that `key` was sent in `conversation` (for privacy export
    and erasure). Raises OwnerIndexUnavailable."""

    async def add(self, conversation: str, key: str) -> None: ...
