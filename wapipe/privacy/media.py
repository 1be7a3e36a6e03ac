"""The media a customer sent, as kept by the media stage: the hook export and erasure go through.

The media stage keeps downloaded bytes in an object store under content-addressed keys (`{tenant}/{sha256}`);
the keys that belong to one customer are what `MediaIndex.keys` lists. The stage does not record whose bytes they
are yet, so there is nothing to list them by: `NoMedia` answers that none are known (the bytes expire after 30
days; docs/security.md says so). An index of (tenant, customer, key) written by the media stage plugs in here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


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
