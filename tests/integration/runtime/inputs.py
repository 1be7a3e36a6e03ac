"""Inbound events for runtime tests: `n` records spread over `keys` conversations, numbered per key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from schemas.envelope import conversation_key, derive_id
from schemas.events import MessageReceived, MessageReceivedPayload, Recipient
from schemas.topics import INBOUND
from wapipe.runtime import Emit, Producer

TENANT = "100000000000001"


def inbound(run: str, key: int, seq: int) -> MessageReceived:
    user = f"57300{key:07d}"
    wamid = f"wamid.{run}.{key}.{seq}"
    return MessageReceived(
        event_id=derive_id("in", wamid), tenant=TENANT, conversation=conversation_key(TENANT, user),
        correlation_id=wamid,
        payload=MessageReceivedPayload(message_id=wamid, sender=Recipient(wa_id=user), timestamp=datetime.now(UTC),
                                       message_type="text", text=f"{key}:{seq}"))


def produce(bootstrap: str, prefix: str, run: str, keys: int, per_key: int) -> list[MessageReceived]:
    """Interleaved: seq 0 of every key, then seq 1, ... so each partition mixes keys."""
    events = [inbound(run, k, s) for s in range(per_key) for k in range(keys)]

    async def go() -> None:
        producer = Producer(bootstrap, topic_prefix=prefix)
        try:
            for i in range(0, len(events), 1000):
                await producer.publish_all(Emit(INBOUND, e) for e in events[i:i + 1000])
        finally:
            producer.close()

    asyncio.run(go())
    return events
