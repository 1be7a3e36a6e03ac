"""The only contract between wapipe services: envelope, events, topics, Meta models."""

from schemas.envelope import (
    Conversation,
    Envelope,
    MalformedConversationKey,
    Trace,
    conversation_key,
    derive_id,
    parse_conversation_key,
)
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
    "Conversation",
    "Envelope",
    "Event",
    "HandoffRequested",
    "MalformedConversationKey",
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
    "parse_conversation_key",
    "topic",
]
