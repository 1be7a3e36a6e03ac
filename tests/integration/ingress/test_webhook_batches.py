"""The per-webhook update cap: messages plus statuses over the cap get 413 and nothing is published."""

from __future__ import annotations

from schemas.topics import INBOUND, STATUS
from tests.integration.ingress.conftest import Ingress, MakeIngress
from tests.support import read_topic
from tests.unit.ingress.batches import batch, to_bytes


async def test_over_the_default_cap_refused_with_a_reason(ingress: Ingress) -> None:
    r = await ingress.post_webhook(to_bytes(batch(messages=600, statuses=401)))
    assert r.status_code == 413
    assert r.json() == {"error": "1001 updates in one webhook, at most 1000"}
    assert ingress.metric("wapipe_webhook_requests_total", {"outcome": "too_many_updates"}) == 1
    assert read_topic(ingress.bootstrap, ingress.prefix + INBOUND, idle=0.5) == []
    assert read_topic(ingress.bootstrap, ingress.prefix + STATUS, idle=0.5) == []


async def test_the_cap_itself_is_accepted(make_ingress: MakeIngress) -> None:
    ingress: Ingress = await make_ingress(ingress_max_updates=5)
    accepted = await ingress.post_webhook(to_bytes(batch(messages=3, statuses=2)))
    refused = await ingress.post_webhook(to_bytes(batch(messages=3, statuses=3)))
    assert (accepted.status_code, refused.status_code) == (200, 413)
    assert accepted.json() == {"events": 5}
    assert len(read_topic(ingress.bootstrap, ingress.prefix + INBOUND, expect=3)) == 3
    assert len(read_topic(ingress.bootstrap, ingress.prefix + STATUS, expect=2)) == 2
