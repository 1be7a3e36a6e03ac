"""ObjectStore on S3 through boto3: AWS S3, MinIO (docker compose) or any S3-compatible server.

boto3 is synchronous, so every call runs in a worker thread. `ensure_bucket()` creates the bucket when it is
missing and gives it a lifecycle rule that expires objects after the retention (30 days), so stored media goes
away with the rest of the conversation data without a sweeper; a bucket that exists keeps its operators' rules.
A put first asks whether the key exists (content-addressed keys: same key, same bytes), so a repeated store
writes nothing; two racing puts of one key write the same bytes twice, which is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from wapipe.objectstore.port import (
    RETENTION,
    ObjectStoreUnavailable,
    StoredObject,
    check_content_type,
    check_key,
    check_prefix,
)

T = TypeVar("T")
LIFECYCLE_RULE_ID = "wapipe-media-retention"
_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


def _code(e: Exception) -> str:
    response: dict[str, Any] = getattr(e, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


def lifecycle(retention: timedelta) -> dict[str, Any]:
    """The bucket lifecycle configuration: every object expires `retention` after it was written."""
    days = max(1, round(retention.total_seconds() / 86400))
    return {"Rules": [{"ID": LIFECYCLE_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
                       "Expiration": {"Days": days},
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]}


class S3ObjectStore:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 retention: timedelta = RETENTION, timeout_s: float = 10.0, client: Any = None) -> None:
        self.bucket = bucket
        self.region = region
        self.retention = retention
        self._client = client if client is not None else _client(endpoint_url, region, access_key_id,
                                                                  secret_access_key, timeout_s)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(fn, *args)
        except ClientError as e:  # what is left after the adapter handled "missing": access, bucket, server
            raise ObjectStoreUnavailable(f"S3 {fn.__name__.strip('_')} failed: {_code(e) or e}") from e
        except BotoCoreError as e:
            raise ObjectStoreUnavailable(f"S3 unreachable: {type(e).__name__}") from e

    def _ensure(self) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as e:
            if _code(e) not in _MISSING:
                raise
        args: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self._client.create_bucket(**args)
        self._client.put_bucket_lifecycle_configuration(Bucket=self.bucket,
                                                        LifecycleConfiguration=lifecycle(self.retention))
        return True

    async def ensure_bucket(self) -> bool:
        """Create the bucket with its lifecycle rule when it does not exist; True when it was created."""
        return await self._call(self._ensure)

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as e:
            if _code(e) in _MISSING:
                return False
            raise

    def _put(self, key: str, data: bytes, content_type: str) -> bool:
        if self._exists(key):
            return False
        self._client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data,
                                ContentType=check_content_type(content_type))
        return True

    def _get(self, key: str) -> StoredObject | None:
        from botocore.exceptions import ClientError

        try:
            r = self._client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as e:
            if _code(e) in _MISSING:
                return None
            raise
        body = r["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        return StoredObject(key=key, data=data, content_type=str(r.get("ContentType") or ""))

    def _delete(self, key: str) -> bool:
        existed = self._exists(key)
        if existed:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        return existed

    def _delete_prefix(self, prefix: str) -> int:
        paginator = self._client.get_paginator("list_objects_v2")
        count = 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=check_prefix(prefix)):
            keys = [{"Key": o["Key"]} for o in page.get("Contents") or []]
            if keys:  # a page holds at most 1,000 keys, as many as delete_objects takes
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                count += len(keys)
        return count

    async def put(self, key: str, data: bytes, content_type: str) -> bool:
        return await self._call(self._put, key, data, content_type)

    async def get(self, key: str) -> StoredObject | None:
        return await self._call(self._get, key)

    async def exists(self, key: str) -> bool:
        return await self._call(self._exists, key)

    async def delete(self, key: str) -> bool:
        return await self._call(self._delete, key)

    async def delete_prefix(self, prefix: str) -> int:
        return await self._call(self._delete_prefix, prefix)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._client.close)


def _client(endpoint_url: str | None, region: str, access_key_id: str | None, secret_access_key: str | None,
            timeout_s: float) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(connect_timeout=timeout_s, read_timeout=timeout_s, retries={"max_attempts": 3, "mode": "standard"},
                 s3={"addressing_style": "path"} if endpoint_url else None)
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region,
                        aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
                        config=cfg)
