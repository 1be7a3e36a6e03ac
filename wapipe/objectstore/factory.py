"""`open_object_store(...)`: the one way a service gets an ObjectStore from its settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from wapipe.objectstore.folder import FolderObjectStore
from wapipe.objectstore.port import RETENTION, ObjectStore
from wapipe.objectstore.s3 import S3ObjectStore

Backend = Literal["folder", "s3"]


def open_object_store(backend: Backend, *, folder: str = ".wapipe/media", bucket: str = "wapipe-media",
                      endpoint_url: str | None = None, region: str = "us-east-1",
                      access_key_id: str | None = None, secret_access_key: str | None = None,
                      retention: timedelta = RETENTION) -> ObjectStore:
    """Build (not connect) the store; for S3 call `await store.ensure_bucket()` once at start."""
    if backend == "folder":
        return FolderObjectStore(folder, retention=retention)
    if backend == "s3":
        return S3ObjectStore(bucket, endpoint_url=endpoint_url, region=region, access_key_id=access_key_id,
                             secret_access_key=secret_access_key, retention=retention)
    raise ValueError(f"unknown object store backend {backend!r}")
