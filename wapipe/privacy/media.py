"""The media a customer sent, as kept by the media stage: the hook export and erasure go through.

The media stage keeps downloaded bytes in an object store under content-addressed keys (`{tenant}/{sha256}`) and
records each key under the sender's conversation (`wapipe.objectstore.owners`): `StoredMedia` lists a customer's
keys from that index and deletes their objects. `NoMedia` is for a caller without the media store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.envelope import conversation_key
from wapipe.objectstore.owners import MediaOwners
from wapipe.objectstore.port import ObjectStore


class MediaIndex(Protocol):
    async def keys(self, tenant: str, users: Sequence[str]) -> list[str]:
        """Object-store keys of the media these identities of one customer sent."""
        ...

    async def delete(self, keys: Sequence[str]) -> int:
        """Delete those objects (and their index entries); how many there were."""
        ...


class NoMedia:
    async def keys(self, tenant: str, users: Sequence[str]) -> list[str]:
        return []

    async def delete(self, keys: Sequence[str]) -> int:
        return 0


class StoredMedia:
    """The media store and its owner index. An object is content-addressed: the same bytes sent by two customers
    (a popular sticker) are one object, deleted when either is erased."""

    def __init__(self, owners: MediaOwners, store: ObjectStore) -> None:
        self.owners, self.store = owners, store

    async def keys(self, tenant: str, users: Sequence[str]) -> list[str]:
        return await self.owners.keys(conversation_key(tenant, u) for u in users)

    async def delete(self, keys: Sequence[str]) -> int:
        return sum([await self.store.delete(k) for k in keys])
