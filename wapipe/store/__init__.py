"""The conversation store: one port, a Cassandra adapter for production and SQLite as the embedded default."""

from wapipe.store.port import ConversationStore, HandoffEntry, TraceRecord, Turn

__all__ = ["ConversationStore", "HandoffEntry", "TraceRecord", "Turn"]
