"""Backends for the object store contract suite: the folder adapter always; S3 when a server is reachable.

S3 comes from `WAPIPE_S3_ENDPOINT_URL` (MinIO: `docker run -p 9000:9000 minio/minio server /data`, then
`WAPIPE_S3_ENDPOINT_URL=http://127.0.0.1:9000`), with credentials from `AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY` (MinIO's `minioadmin` defaults when unset) and `AWS_REGION` (else us-east-1). Each test
gets a fresh bucket, emptied and deleted afterwards. Without a reachable server the S3 cases are skipped.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support import unique
from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.port import ObjectStore
from wapipe.objectstore.s3 import S3ObjectStore

ENDPOINT_ENV = "WAPIPE_S3_ENDPOINT_URL"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def s3_store(bucket: str | None = None) -> S3ObjectStore:
    endpoint = os.environ.get(ENDPOINT_ENV, "")
    if not endpoint:
        pytest.skip(f"no S3 server: set {ENDPOINT_ENV} (e.g. a MinIO on http://127.0.0.1:9000) to run these")
    if not _reachable(endpoint):
        pytest.skip(f"{ENDPOINT_ENV}={endpoint} is not reachable")
    return S3ObjectStore(bucket or unique("wapipe-test-").lower(), endpoint_url=endpoint,
                         region=os.environ.get("AWS_REGION", "us-east-1"),
                         access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "minioadmin"),
                         secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "minioadmin"))


def _drop_bucket(store: S3ObjectStore) -> None:
    client: Any = store._client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket):
        for o in page.get("Contents") or []:
            client.delete_object(Bucket=store.bucket, Key=o["Key"])
    client.delete_bucket(Bucket=store.bucket)


@pytest.fixture(params=["folder", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "folder":
        yield FolderObjectStore(tmp_path / "media")
        return
    s3 = s3_store()
    await s3.ensure_bucket()
    try:
        yield s3
    finally:
        _drop_bucket(s3)
        await s3.aclose()
