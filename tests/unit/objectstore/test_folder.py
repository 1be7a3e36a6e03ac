"""The folder adapter's own promises: atomic files under the root, and expiry after the retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from wapipe.objectstore.folder import TMP, FolderObjectStore
from wapipe.objectstore.port import content_key
from wapipe.objectstore.s3 import lifecycle

DAY = 86400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_objects_live_under_the_root_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = FolderObjectStore(tmp_path)
    key = content_key("100000000000001", b"hola")
    await store.put(key, b"hola", "text/plain")
    assert (tmp_path / key).is_file()
    assert list((tmp_path / TMP).iterdir()) == []


async def test_objects_expire_after_the_retention_and_expire_sweeps_them(tmp_path: Path) -> None:
    import time

    clock = Clock(time.time())
    store = FolderObjectStore(tmp_path, retention=timedelta(days=30), clock=clock)
    old, new = content_key("1", b"old"), content_key("1", b"new")
    await store.put(old, b"old", "text/plain")
    clock.now += 29 * DAY
    await store.put(new, b"new", "text/plain")
    assert await store.exists(old)
    clock.now += 1 * DAY + 1
    assert await store.get(old) is None and not await store.exists(old)
    assert await store.expire() == 1
    assert not (tmp_path / old).exists() and await store.exists(new)
    # an expired key is stored afresh
    assert await store.put(old, b"old", "text/plain") is True


def test_the_s3_lifecycle_rule_expires_after_the_retention() -> None:
    rule = lifecycle(timedelta(days=30))["Rules"][0]
    assert rule["Expiration"] == {"Days": 30} and rule["Filter"] == {"Prefix": ""} and rule["Status"] == "Enabled"
