"""Every ObjectStore adapter keeps the port's promises: round trip, store-once, delete, prefixes, safe keys."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest

from tests.integration.objectstore.conftest import _drop_bucket, s3_store
from wapipe.objectstore.port import InvalidKey, ObjectStore, content_key
from wapipe.objectstore.s3 import LIFECYCLE_RULE_ID

OGG = b"OggS" + os.urandom(2048)


async def test_round_trip_keeps_bytes_and_content_type(store: ObjectStore) -> None:
    key = content_key("100000000000001", OGG)
    assert key == f"100000000000001/{hashlib.sha256(OGG).hexdigest()}"
    assert not await store.exists(key)
    assert await store.get(key) is None
    assert await store.put(key, OGG, "audio/ogg; codecs=opus") is True
    got = await store.get(key)
    assert got is not None and got.data == OGG and got.content_type == "audio/ogg; codecs=opus" and got.key == key
    assert await store.exists(key)


async def test_the_same_bytes_are_stored_once(store: ObjectStore) -> None:
    key = content_key("100000000000001", OGG)
    assert await store.put(key, OGG, "audio/ogg") is True
    assert await store.put(key, OGG, "audio/ogg") is False
    # A second writer of the key never replaces what is there.
    assert await store.put(key, b"other bytes", "text/plain") is False
    got = await store.get(key)
    assert got is not None and got.data == OGG and got.content_type == "audio/ogg"


async def test_concurrent_puts_of_one_key_write_it_once(store: ObjectStore) -> None:
    key = content_key("100000000000001", OGG)
    wrote = await asyncio.gather(*(store.put(key, OGG, "audio/ogg") for _ in range(8)))
    assert wrote.count(True) >= 1
    got = await store.get(key)
    assert got is not None and got.data == OGG


async def test_empty_and_large_objects(store: ObjectStore) -> None:
    big = os.urandom(6 * 1024 * 1024 + 17)
    for data in (b"", big):
        key = content_key("100000000000001", data)
        await store.put(key, data, "application/octet-stream")
        got = await store.get(key)
        assert got is not None and got.data == data


async def test_delete_and_delete_prefix_touch_only_what_they_name(store: ObjectStore) -> None:
    mine = [content_key("111", bytes([i]) * 10) for i in range(3)]
    theirs = content_key("222", b"kept")
    for k in mine:
        await store.put(k, b"x", "text/plain")
    await store.put(theirs, b"kept", "text/plain")
    await store.put("111/nested/deeper", b"y", "text/plain")

    assert await store.delete(mine[0]) is True
    assert await store.delete(mine[0]) is False
    assert await store.get(mine[0]) is None
    assert await store.delete_prefix("111/") == 3
    assert not any([await store.exists(k) for k in mine]) and not await store.exists("111/nested/deeper")
    assert await store.exists(theirs)
    assert await store.delete_prefix("111/") == 0
    assert await store.delete_prefix("11/") == 0 and await store.exists(theirs)


@pytest.mark.parametrize("key", ["", "/abs", "../escape", "a/../b", "a//b", "a/.hidden", "a/b/", "a\\b", "a b"])
async def test_unsafe_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(key, b"x", "text/plain")
    with pytest.raises(InvalidKey):
        await store.get(key)


@pytest.mark.parametrize("prefix", ["", "/", "111", "../", "a/../"])
async def test_prefixes_that_could_delete_too_much_are_refused(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        await store.delete_prefix(prefix)


async def test_a_new_s3_bucket_gets_the_30_day_lifecycle() -> None:
    store = s3_store()
    try:
        assert await store.ensure_bucket() is True
        assert await store.ensure_bucket() is False
        rules = store._client.get_bucket_lifecycle_configuration(Bucket=store.bucket)["Rules"]
        rule = next(r for r in rules if r["ID"] == LIFECYCLE_RULE_ID)
        assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] == 30
    finally:
        _drop_bucket(store)
        await store.aclose()
