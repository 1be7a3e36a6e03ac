"""Edits and revokes against replies on their way, on the real Redis: of a cancel and a reply racing for one
message exactly one wins."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from tests.support import unique
from wapipe.state.answers import Answers, answer_key

TENANT = "100000000000001"


async def test_a_cancel_before_the_reply_stops_it(redis_client: aioredis.Redis) -> None:
    answers, m = Answers(redis_client), unique("wamid.")
    assert await answers.cancel(TENANT, m, "revoked") == "cancelled"
    assert await answers.cancelled(TENANT, m) == "revoked"
    assert await answers.cancel(TENANT, m, "edited") == "cancelled"  # the first reason stays
    assert await answers.cancelled(TENANT, m) == "revoked"
    assert await answers.begin(TENANT, [m]) == "revoked"  # the sender does not send it
    assert 0 < await redis_client.ttl(answer_key(TENANT, m)) <= 7 * 24 * 3600


async def test_a_reply_that_began_cannot_be_cancelled_any_more(redis_client: aioredis.Redis) -> None:
    answers, m = Answers(redis_client), unique("wamid.")
    assert await answers.begin(TENANT, [m]) is None
    assert await answers.begin(TENANT, [m]) is None  # a retry of the same reply goes on
    assert await answers.cancel(TENANT, m, "edited") == "answered"
    assert await answers.cancelled(TENANT, m) is None


async def test_a_reply_answering_one_message_still_standing_goes_out(redis_client: aioredis.Redis) -> None:
    answers, gone, kept = Answers(redis_client), unique("wamid."), unique("wamid.")
    await answers.cancel(TENANT, gone, "revoked")
    assert await answers.begin(TENANT, [gone, kept]) is None
    assert await answers.cancel(TENANT, kept, "revoked") == "answered"
    assert await answers.cancelled(TENANT, gone) == "revoked"
    assert await answers.begin(TENANT, []) is None  # a reply that answers no message (an operator's) is never held


async def test_cancels_and_replies_racing_agree_on_one_winner(redis_client: aioredis.Redis) -> None:
    answers = Answers(redis_client)
    messages = [unique("wamid.") for _ in range(40)]  # 80 calls in flight: within the client's pool

    async def race(m: str, reply_first: bool) -> tuple[str, str | None]:
        if reply_first:
            begin, cancel = await asyncio.gather(answers.begin(TENANT, [m]), answers.cancel(TENANT, m, "revoked"))
        else:
            cancel, begin = await asyncio.gather(answers.cancel(TENANT, m, "revoked"), answers.begin(TENANT, [m]))
        return cancel, begin

    outcomes = await asyncio.gather(*(race(m, i % 2 == 0) for i, m in enumerate(messages)))
    for cancel, begin in outcomes:
        # either the cancel came first (the reply is held) or the reply did (the cancel found it answered)
        assert (cancel, begin) in (("cancelled", "revoked"), ("answered", None))


async def test_the_edits_of_a_message_are_remembered(redis_client: aioredis.Redis) -> None:
    answers, m = Answers(redis_client), unique("wamid.")
    await answers.record_edit(TENANT, m, "wamid.e1")
    await answers.record_edit(TENANT, m, "wamid.e2")
    await answers.record_edit(TENANT, m, "wamid.e1")
    assert await answers.edits_of(TENANT, m) == ["wamid.e1", "wamid.e2"]
    assert await answers.edits_of(TENANT, unique("wamid.")) == []
