"""A customer's media in the privacy export and erasure: the media stage stores the bytes and indexes them to
the sender's conversation (real Redis, the folder store); export lists the keys, erasure deletes the objects and
leaves another customer's media alone."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas.envelope import Trace, conversation_key, derive_id, utcnow
from schemas.events import Media, MessageReceived, MessageReceivedPayload, Recipient
from schemas.understanding import MediaUnderstanding
from services.media.handlers import MediaHandler, Ports
from services.media.metrics import MediaMetrics
from services.media.understand.understand import Understood
from wapipe.media.download import Downloaded
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.owners import MediaOwners
from wapipe.privacy import Privacy, StoredMedia, resolve_subject
from wapipe.runtime.types import RecordMeta
from wapipe.store import Store, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
PNID = "100000000000001"


class Bytes:
    """The downloader port: the media id is the content (no Graph API needed to test the index)."""

    async def download(self, media_id: str, *, phone_number_id: str | None = None,
                       expected_sha256: str | None = None) -> Downloaded:
        data = media_id.encode()
        return Downloaded(media_id=media_id, data=data, mime_type="image/jpeg",
                          sha256=hashlib.sha256(data).hexdigest(), attempts=1, duration_s=0.0)


class Nothing:
    async def understand(self, kind: str, data: bytes, mime_type: str, *, caption: str | None = None) -> Understood:
        return Understood("image", caption or "")  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


def photo(user: str, media_id: str) -> MessageReceived:
    now = utcnow()
    return MessageReceived(
        event_id=derive_id("in", media_id), occurred_at=now, tenant=PNID, conversation=conversation_key(PNID, user),
        correlation_id=f"wamid.{media_id}", trace=Trace(received_at=now),
        payload=MessageReceivedPayload(message_id=f"wamid.{media_id}", sender=Recipient(wa_id=user), timestamp=now,
                                       message_type="image", media=Media(id=media_id, mime_type="image/jpeg")))


async def test_the_customers_media_is_exported_and_erased(redis_client: aioredis.Redis, store: Store,
                                                          tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    owners = MediaOwners(redis_client)
    handler = MediaHandler(Ports(downloader=Bytes(), store=objects, understander=Nothing(),  # type: ignore[arg-type]
                                 owners=owners), MediaMetrics(CollectorRegistry()))
    meta = RecordMeta("wa.inbound.v1", 0, 0, None, None)
    keys: dict[str, list[str]] = {}
    for user, media_id in (("573001110001", "foto-uno"), ("573001110001", "foto-dos"), ("573001110002", "otra")):
        (emit,) = await handler(photo(user, media_id), meta)
        u = emit.event.payload.understanding
        assert isinstance(u, MediaUnderstanding) and u.object_key and u.failures == []
        keys.setdefault(user, []).append(u.object_key)
    await handler(photo("573001110001", "foto-uno"), meta)  # Meta's retry: stored and indexed once

    privacy = Privacy(store, redis_client, StoredMedia(owners, objects))
    subject = resolve_subject(TenantRegistry(TENANTS), "demo", "573001110001")
    doc = await privacy.export(subject, "test")
    assert doc["media"] == sorted(keys["573001110001"]) and doc["kept"]["media"] == 2

    erased = await privacy.erase(subject, "test")
    assert erased["counts"]["media"] == 2
    assert [await objects.exists(k) for k in keys["573001110001"]] == [False, False]
    assert await objects.exists(keys["573001110002"][0])  # another customer's media stays
    assert (await privacy.export(subject, "test"))["media"] == []
    assert (await privacy.erase(subject, "test"))["counts"]["media"] == 0  # idempotent
