"""The conversation store: one port (and the operator tokens' port beside it), a Cassandra adapter for production
and SQLite as the embedded default.

    store = open_store(settings.store_url)      # sqlite:///.wapipe/wapipe.db or cassandra://h1,h2/wapipe
    await store.migrate()
    context = ContextCache(redis, store)        # last 6 turns, cached in Redis for 30 min
"""

from wapipe.store.context import ContextCache
from wapipe.store.port import (
    RETENTION,
    ConversationStore,
    HandoffEntry,
    OperatorToken,
    OperatorTokenStore,
    Store,
    StoreUnavailable,
    TraceRecord,
    Turn,
)
from wapipe.store.url import open_store

__all__ = [
    "RETENTION",
    "ContextCache",
    "ConversationStore",
    "HandoffEntry",
    "OperatorToken",
    "OperatorTokenStore",
    "Store",
    "StoreUnavailable",
    "TraceRecord",
    "Turn",
    "open_store",
]
