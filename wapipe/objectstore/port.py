"""The port services keep media bytes behind, and the content-addressed keys they use.

A key is `{tenant}/{sha256 of the bytes}`: the same bytes of the same tenant always land on the same key, so
storing what was stored before (Meta's retried webhooks, a replayed topic) writes nothing. Everything stored
expires after `RETENTION` (30 days), like the rest of a conversation's data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

RETENTION = timedelta(days=30)
KEY_MAX = 512
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._=-]*")


class ObjectStoreUnavailable(RuntimeError):
    """The backend cannot be reached or written (S3 down, bucket missing, folder not writable)."""


class InvalidKey(ValueError):
    """A key or prefix that could escape its namespace (empty, `..`, absolute, odd characters)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    data: bytes
    content_type: str


def check_key(key: str) -> str:
    """`key` when it is `segment/segment/...` of safe characters (no `.`/`..` segment, no leading slash)."""
    if not key or len(key) > KEY_MAX or not all(_SEGMENT.fullmatch(s) for s in key.split("/")):
        raise InvalidKey(f"invalid object key {key[:80]!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A prefix ending at a segment boundary (`tenant/`), never empty: deleting a whole store is not a prefix."""
    if not prefix.endswith("/"):
        raise InvalidKey("a prefix ends with '/'")
    check_key(prefix[:-1])
    return prefix


def check_content_type(content_type: str) -> str:
    if not content_type or len(content_type) > 255 or any(c in content_type for c in "\r\n\x00"):
        raise InvalidKey("invalid content type")
    return content_type


def content_key(tenant: str, data: bytes) -> str:
    """`{tenant}/{sha256}`: where these bytes of this tenant live."""
    return check_key(f"{tenant}/{hashlib.sha256(data).hexdigest()}")


class ObjectStore(Protocol):
    """Async; never blocks the event loop. Keys are checked with `check_key` (InvalidKey otherwise)."""

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        """Store `data` under `key` unless something is there already; True when this call wrote it."""
        ...

    async def get(self, key: str) -> StoredObject | None:
        """The object, or None when there is none (never stored, deleted or expired)."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> bool:
        """True when an object was there."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix` (e.g. a tenant's `"{tenant}/"`); how many were deleted."""
        ...

    async def aclose(self) -> None: ...
