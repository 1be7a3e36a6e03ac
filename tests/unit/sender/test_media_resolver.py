"""Media replies resolved to what Meta sends by, with fakes of the sender's own ports and a real folder store."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.events import OutboundMedia
from schemas.meta.media import UPLOAD_LIMITS
from services.sender.media import Fetched, MediaRefused, MediaResolver
from services.sender.media_adapters import link_guard
from wapipe.net.guard import Resolver
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.port import content_key

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 50
TENANT = "100000000000001"


class Uploads:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str, str | None]] = []

    async def upload(self, phone_number_id: str, data: bytes, mime_type: str, filename: str | None) -> str:
        self.calls.append((phone_number_id, len(data), mime_type, filename))
        return f"media-{len(self.calls)}"


class Ids:
    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}

    async def get(self, tenant: str, sha256: str) -> str | None:
        return self.ids.get((tenant, sha256))

    async def put(self, tenant: str, sha256: str, media_id: str) -> None:
        self.ids[(tenant, sha256)] = media_id


class Forwarder:
    async def fetch(self, phone_number_id: str, media_id: str) -> Fetched:
        if media_id == "gone":
            raise MediaRefused("forward_expired", "404")
        return Fetched(PNG, "image/png")


def answering(*addresses: str) -> Resolver:
    """A resolver that gives these addresses for every name (no DNS in unit tests)."""
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)
    return resolve


@pytest.fixture
def store(tmp_path: Path) -> FolderObjectStore:
    return FolderObjectStore(tmp_path / "media")


def resolver(store: FolderObjectStore, uploads: Uploads, public: bool = True) -> MediaResolver:
    guard = link_guard(resolver=answering("93.184.216.34" if public else "10.0.0.7"))
    return MediaResolver(guard=guard, ids=Ids(), uploader=uploads, objects=store, forwarder=Forwarder())


async def test_stored_bytes_are_uploaded_once_per_content_hash(store: FolderObjectStore) -> None:
    key = content_key(TENANT, PNG)
    await store.put(key, PNG, "image/png")
    uploads = Uploads()
    r = resolver(store, uploads)
    first = await r.resolve(TENANT, "image", OutboundMedia(object_key=key, caption="Tu foto"))
    again = await r.resolve(TENANT, "image", OutboundMedia(object_key=key))
    forwarded = await r.resolve(TENANT, "image", OutboundMedia(forward_media_id="cust-1"))  # the same bytes
    assert first.media_id == again.media_id == forwarded.media_id == "media-1"
    assert first.caption == "Tu foto" and first.object_key is None
    assert uploads.calls == [(TENANT, len(PNG), "image/png", None)]


async def test_links_pass_the_outbound_guard_or_are_refused(store: FolderObjectStore) -> None:
    ok = await resolver(store, Uploads()).resolve(TENANT, "image", OutboundMedia(link="https://cdn.example/a.png"))
    assert ok.link == "https://cdn.example/a.png"
    with pytest.raises(MediaRefused) as private:
        await resolver(store, Uploads(), public=False).resolve(
            TENANT, "image", OutboundMedia(link="https://intranet.example/a.png"))
    assert private.value.reason == "private_address"
    for link, reason in (("http://cdn.example/a.png", "scheme_not_allowed"),
                         ("https://127.0.0.1/a.png", "private_address"),
                         ("https://user:pw@cdn.example/a.png", "userinfo")):
        with pytest.raises(MediaRefused) as e:
            await resolver(store, Uploads()).resolve(TENANT, "image", OutboundMedia(link=link))
        assert e.value.reason == reason


async def test_refusals_before_any_upload(store: FolderObjectStore) -> None:
    uploads = Uploads()
    r = resolver(store, uploads)
    with pytest.raises(MediaRefused, match="object_missing"):
        await r.resolve(TENANT, "image", OutboundMedia(object_key=f"{TENANT}/{'0' * 64}"))
    with pytest.raises(MediaRefused, match="invalid_key"):
        await r.resolve(TENANT, "image", OutboundMedia(object_key="../etc/passwd"))
    await store.put(content_key(TENANT, PNG), PNG, "image/png")
    with pytest.raises(MediaRefused, match="unsupported_type"):  # a PNG is no voice note
        await r.resolve(TENANT, "audio", OutboundMedia(object_key=content_key(TENANT, PNG)))
    big = b"x" * (UPLOAD_LIMITS["image"] + 1)
    await store.put(content_key(TENANT, big), big, "image/jpeg")
    with pytest.raises(MediaRefused, match="too_large"):
        await r.resolve(TENANT, "image", OutboundMedia(object_key=content_key(TENANT, big)))
    with pytest.raises(MediaRefused, match="forward_expired"):
        await r.resolve(TENANT, "image", OutboundMedia(forward_media_id="gone"))
    assert uploads.calls == []


async def test_a_tenant_host_list_narrows_links() -> None:
    guard = link_guard(["cdn.tienda.example", ".fotos.example"], resolver=answering("93.184.216.34"))
    await guard.admit("https://a.fotos.example/x.png")
    await guard.admit("https://cdn.tienda.example/x.png")
    with pytest.raises(Exception, match="host_not_allowed"):
        await guard.admit("https://elsewhere.example/x.png")
