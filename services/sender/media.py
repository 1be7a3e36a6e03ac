"""Where a media reply's bytes come from, resolved to what Meta sends by: an uploaded `media_id` or a `link`.

- `link`: Meta fetches it, so the sender only lets through what the outbound guard admits (https, a public
  address; a tenant may narrow the hosts). A link to our own network is refused, never handed to Meta.
- `media_id`: already Meta's; sent as it is.
- `object_key`: the object store's bytes (the media stage stored a customer's media there, or a tenant put a
  file there), uploaded with `POST /{phone_number_id}/media`.
- `forward_media_id`: a customer's media id; downloaded from the Graph API (verified) and uploaded again, which
  is how a HUMAN_ACTIVE conversation's photo reaches the shop's internal numbers as a photo.

An upload's id is cached per tenant and content hash (`MediaIds`, Redis) for less than the 30 days Meta keeps
uploaded media, so the same bytes are uploaded once. Every refusal is a `MediaRefused` with a fixed reason.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from schemas.events import OutboundMedia
from schemas.meta.media import SUPPORTED_TYPES, UPLOAD_LIMITS, MediaKind, base_mime
from wapipe.net.guard import GuardRefused
from wapipe.objectstore.port import InvalidKey, ObjectStore

log = logging.getLogger(__name__)


class MediaRefused(Exception):
    """The media cannot be sent; `reason` is a short fixed word (private_address, object_missing, too_large...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@runtime_checkable
class UploadPort(Protocol):
    """`POST /{phone_number_id}/media`: the bytes in, Meta's media id out (GraphError when Meta refuses)."""

    async def upload(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None) -> str: ...


class LinkGuard(Protocol):
    """The outbound guard (`wapipe.net.guard.OutboundGuard`): raises GuardRefused for a link not to send."""

    async def admit(self, url: str) -> object: ...


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime_type: str


class ForwardPort(Protocol):
    """A customer's media by its id, downloaded and verified; MediaRefused when it cannot be had."""

    async def fetch(self, phone_number_id: str, media_id: str) -> Fetched: ...


class MediaIdCache(Protocol):
    """Uploaded media ids per tenant and sha256 of the bytes (`MediaIds` over Redis)."""

    async def get(self, tenant: str, sha256: str) -> str | None: ...

    async def put(self, tenant: str, sha256: str, media_id: str) -> None: ...


def check_bytes(kind: MediaKind, data: bytes, mime_type: str) -> str:
    """The base mime type when Meta takes these bytes as `kind`; MediaRefused otherwise (before any upload)."""
    mime = base_mime(mime_type)
    if mime not in SUPPORTED_TYPES[kind]:
        raise MediaRefused("unsupported_type", f"{mime or 'no type'} cannot be sent as {kind}")
    if len(data) > UPLOAD_LIMITS[kind]:
        raise MediaRefused("too_large", f"{kind} is limited to {UPLOAD_LIMITS[kind]} bytes, got {len(data)}")
    if not data:
        raise MediaRefused("empty", "no bytes to send")
    return mime


@dataclass
class MediaResolver:
    guard: LinkGuard
    ids: MediaIdCache
    uploader: UploadPort | None = None
    objects: ObjectStore | None = None
    forwarder: ForwardPort | None = None

    async def resolve(self, tenant: str, kind: MediaKind, media: OutboundMedia) -> OutboundMedia:
        """The same media with `media_id` or `link` as its only source."""
        if media.media_id is not None:
            return media
        if media.link is not None:
            try:
                await self.guard.admit(media.link)
            except GuardRefused as e:
                raise MediaRefused(e.reason, "the link was refused by the outbound guard") from e
            return media
        if media.object_key is not None:
            data, mime = await self._stored(media.object_key, media.mime_type)
        else:
            if self.forwarder is None:
                raise MediaRefused("not_configured", "no Graph API download for forwarded media")
            fetched = await self.forwarder.fetch(tenant, str(media.forward_media_id))
            data, mime = fetched.data, media.mime_type or fetched.mime_type
        media_id = await self.upload_once(tenant, kind, data, mime, media.filename)
        return media.model_copy(update={"media_id": media_id, "object_key": None, "forward_media_id": None})

    async def _stored(self, key: str, mime_type: str | None) -> tuple[bytes, str]:
        if self.objects is None:
            raise MediaRefused("not_configured", "no object store")
        try:
            obj = await self.objects.get(key)
        except InvalidKey as e:
            raise MediaRefused("invalid_key", str(e)) from e
        if obj is None:
            raise MediaRefused("object_missing", "nothing stored under the key (expired or erased)")
        return obj.data, mime_type or obj.content_type

    async def upload_once(self, tenant: str, kind: MediaKind, data: bytes, mime_type: str,
                          filename: str | None) -> str:
        mime = check_bytes(kind, data, mime_type)
        sha = hashlib.sha256(data).hexdigest()
        if (cached := await self.ids.get(tenant, sha)) is not None:
            return cached
        if self.uploader is None:
            raise MediaRefused("not_configured", "no Graph API upload")
        media_id = await self.uploader.upload(tenant, data, mime, filename)
        await self.ids.put(tenant, sha, media_id)
        log.info("uploaded %s of %d bytes for tenant %s", kind, len(data), tenant)
        return media_id
