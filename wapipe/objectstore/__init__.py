"""Object storage for media bytes: one port, a local folder (embedded default) and S3 (boto3) adapters."""

from wapipe.objectstore.port import ObjectStore, ObjectStoreUnavailable, StoredObject, content_key

__all__ = ["ObjectStore", "ObjectStoreUnavailable", "StoredObject", "content_key"]
