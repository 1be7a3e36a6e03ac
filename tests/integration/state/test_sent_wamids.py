"""The wamids the sender sent, as guardrails reads them to tell wapipe's own messages from a person's echo."""

from __future__ import annotations

import redis.asyncio as aioredis

from services.sender.claims import SendClaims
from tests.support import unique
from wapipe.state.sent import SENT_WAMID_TTL_S, SentMessages, sent_wamid_key


async def test_a_send_marked_sent_or_confirmed_by_a_status_is_ours(redis_client: aioredis.Redis) -> None:
    claims, sent = SendClaims(redis_client), SentMessages(redis_client)
    marked, confirmed, other = unique("wamid.m"), unique("wamid.c"), unique("wamid.o")
    sid = unique("r") + ":0"
    await claims.claim(sid, "a")
    await claims.mark_sent(sid, marked)
    await claims.confirm(unique("r") + ":0", confirmed)  # a status webhook brought the send id back
    assert await sent.is_ours(marked) and await sent.is_ours(confirmed)
    assert not await sent.is_ours(other)  # a person's message from the WhatsApp Business app
    assert (await redis_client.get(sent_wamid_key(marked))).decode() == sid
    assert SENT_WAMID_TTL_S - 60 <= await redis_client.ttl(sent_wamid_key(marked)) <= SENT_WAMID_TTL_S
