"""The conversation store: one port (and the operator tokens' port beside it), a Cassandra adapter for production
and SQLite as the embedded default.

    store = open_store(settings.store_url)      # sqlite:///.wapipe/wapipe.db or cassandra://h1,h2/wapipe
    await store.migrate()
    context = ContextCache(redis, store)        # last 6 turns, cached in Redis for 30 min
"""

from wapipe.store.accounts import OperatorAccount, OperatorAccountStore, OperatorEvent
from wapipe.store.context import ContextCache
from wapipe.store.port import (
    RETENTION,
    ConversationStore,
    HandoffEntry,
    IdentityLink,
    IdentityStore,
    OperatorToken,
    OperatorTokenStore,
    Store,
    StoreUnavailable,
    TraceRecord,
    Turn,
)
from wapipe.store.privacy import ConsentChange, ConsentStatus, ConsentStore, PrivacyAudit, PrivacyStore
from wapipe.store.url import open_store

__all__ = [
    "RETENTION",
    "ContextCache",
    "ConsentChange",
    "ConsentStatus",
    "ConsentStore",
    "ConversationStore",
    "HandoffEntry",
    "IdentityLink",
    "IdentityStore",
    "OperatorAccount",
    "OperatorAccountStore",
    "OperatorEvent",
    "OperatorToken",
    "OperatorTokenStore",
    "PrivacyAudit",
    "PrivacyStore",
    "Store",
    "StoreUnavailable",
    "TraceRecord",
    "Turn",
    "open_store",
]
