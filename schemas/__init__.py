"""The only contract between wapipe services: envelope, events, topics, Meta models."""

from schemas.envelope import Envelope, Trace, conversation_key, derive_id
from schemas.events import (
    EVENT_TYPES,
    AnswerRequested,
    Event,
    HandoffRequested,
    MessageReceived,
    ReplyFailed,
    ReplyRequested,
    ReplySent,
    StatusReceived,
    decode_event,
    encode_event,
)
from schemas.topics import TOPICS, Topic, dlq_name, topic

__all__ = [
    "EVENT_TYPES",
    "TOPICS",
    "AnswerRequested",
    "Envelope",
    "Event",
    "HandoffRequested",
    "MessageReceived",
    "ReplyFailed",
    "ReplyRequested",
    "ReplySent",
    "StatusReceived",
    "Topic",
    "Trace",
    "conversation_key",
    "decode_event",
    "derive_id",
    "dlq_name",
    "encode_event",
    "topic",
]
