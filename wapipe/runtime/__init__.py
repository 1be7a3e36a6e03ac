"""The stream runtime every consumer service runs on: key-ordered concurrency, no-loss commits, DLQ."""

from wapipe.runtime.producer import DeliveryFailed, Producer
from wapipe.runtime.types import Emit, Handler, PermanentError, RecordMeta

__all__ = ["DeliveryFailed", "Emit", "Handler", "PermanentError", "Producer", "RecordMeta"]
