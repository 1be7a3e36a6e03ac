"""A Graph API call that times out after Meta accepted it must not be sent again once Meta's status confirms it."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from services.sender.claims import SendClaims
from services.sender.delivery import Delivery, RetryPolicy
from services.sender.graph import GraphError
from services.sender.metrics import SenderMetrics
from services.sender.pacing import Pacer


class AcceptsThenTimesOut:
    """Meta took the first request but the answer never came back; its status webhook confirms it shortly."""

    def __init__(self, claims: SendClaims, send_id: str) -> None:
        self.claims, self.send_id, self.accepted = claims, send_id, 0

    async def post(self, phone_number_id: str, body: dict[str, Any]) -> str | None:
        self.accepted += 1
        await self.claims.confirm(self.send_id, f"wamid.{self.accepted}")  # the status worker's doing
        if self.accepted == 1:
            raise GraphError(None, None, "timeout: ReadTimeout")
        return f"wamid.{self.accepted}"


async def test_timeout_after_meta_accepted_is_not_sent_twice(redis_client: aioredis.Redis) -> None:
    claims = SendClaims(redis_client)
    graph = AcceptsThenTimesOut(claims, "reply-1:0")
    delivery = Delivery(graph, claims, Pacer(redis_client), SenderMetrics(CollectorRegistry()),
                        RetryPolicy(backoff_base_s=0.01), doubt_grace_s=2)
    part = await delivery.send_once("reply-1:0", "100000000000001", "573001119999", "text",
                                    {"type": "text", "text": {"body": "hola"}})
    assert graph.accepted == 1
    assert part.wamid == "wamid.1"
