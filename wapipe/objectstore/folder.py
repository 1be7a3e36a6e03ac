"""ObjectStore on a local folder: the embedded default (`.wapipe/media`).

Each object is one file at `root/<key>`: its content type, a newline, then the bytes. A put writes a temporary
file under `root/.tmp` and hard-links it into place, which fails when the key exists: two writers of the same key
(two processes, a redelivered record) store it once, and a reader never sees half a file. A file's mtime is its
write time on the store's clock; it lives `retention` from then, and `expire()` deletes older ones (the media
service calls it periodically).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from wapipe.objectstore.port import (
    RETENTION,
    ObjectStoreUnavailable,
    StoredObject,
    check_content_type,
    check_key,
    check_prefix,
)

TMP = ".tmp"


class FolderObjectStore:
    def __init__(self, root: str | Path, *, retention: timedelta = RETENTION,
                 clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.retention = retention
        self.clock = clock

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _fresh(self, path: Path) -> bool:
        return self.clock() - path.stat().st_mtime < self.retention.total_seconds()

    def _put(self, key: str, data: bytes, content_type: str) -> bool:
        path = self._path(key)
        header = check_content_type(content_type).encode() + b"\n"
        try:
            if path.exists():
                if self._fresh(path):
                    return False
                path.unlink(missing_ok=True)  # expired but not yet swept: store anew
            tmp_dir = self.root / TMP
            tmp_dir.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = tmp_dir / uuid.uuid4().hex
            with open(tmp, "wb") as f:
                f.write(header)
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            now = self.clock()
            os.utime(tmp, (now, now))  # the file's age is measured on the store's clock
            try:
                os.link(tmp, path)
                return True
            except FileExistsError:
                return False
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as e:
            raise ObjectStoreUnavailable(f"cannot write {self.root}: {e}") from e

    def _get(self, key: str) -> StoredObject | None:
        path = self._path(key)
        try:
            if not self._fresh(path):
                return None
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ObjectStoreUnavailable(f"cannot read {self.root}: {e}") from e
        content_type, _, data = raw.partition(b"\n")
        return StoredObject(key=key, data=data, content_type=content_type.decode())

    def _exists(self, key: str) -> bool:
        try:
            return self._fresh(self._path(key))
        except FileNotFoundError:
            return False

    def _delete(self, key: str) -> bool:
        try:
            self._path(key).unlink()
            return True
        except FileNotFoundError:
            return False

    def _delete_prefix(self, prefix: str) -> int:
        base = self.root / check_prefix(prefix)
        if not base.is_dir():
            return 0
        count = 0
        for path in sorted(base.rglob("*"), reverse=True):  # children before their folders
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
                count += 1
        base.rmdir()
        return count

    def _expire(self) -> int:
        """Delete objects older than the retention (and temporary files left by a crash); how many objects."""
        limit = self.clock() - self.retention.total_seconds()
        count = 0
        for path in self.root.rglob("*") if self.root.is_dir() else ():
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                count += 0 if TMP in path.relative_to(self.root).parts else 1
        return count

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        return await asyncio.to_thread(self._put, key, data, content_type)

    async def get(self, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._get, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._exists, key)

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self._delete, key)

    async def delete_prefix(self, prefix: str) -> int:
        return await asyncio.to_thread(self._delete_prefix, prefix)

    async def expire(self) -> int:
        return await asyncio.to_thread(self._expire)

    async def aclose(self) -> None:
        return None
