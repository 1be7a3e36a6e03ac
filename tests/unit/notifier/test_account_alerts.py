"""Account-level webhooks reach the shop's people: a paused template, a flagged number, a restricted account each
become one text per internal number of every tenant of that account, sent from the tenant's own number."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from schemas.envelope import parse_conversation_key
from schemas.events import ReplyRequested
from schemas.meta.webhook import WebhookPayload
from schemas.topics import OUTBOUND
from services.ingress.normalize import normalize
from services.notifier.handlers import Notifier
from services.notifier.metrics import NotifierMetrics
from tests.fakes.store import MemoryStore
from tests.unit.notifier.events import INTERNAL
from tests.unit.notifier.fakes import FakeState, FakeTenants, demo_tenant
from wapipe.runtime.types import RecordMeta

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
META = RecordMeta(topic="wa.account.v1", partition=0, offset=0, key=None, timestamp_ms=None)
WABA = "102290129340398"
SECOND = "573000000088"


def account_event(sample: str, time: int | None = None):  # type: ignore[no-untyped-def]
    """The sample as ingress publishes it on wa.account.v1 (`time`: Meta's entry.time instead of the sample's)."""
    doc = json.loads((DATA / f"{sample}.json").read_text())
    if time is not None:
        doc["entry"][0]["time"] = time
    [emit] = normalize(WebhookPayload.model_validate(doc), datetime(2026, 11, 21, tzinfo=UTC)).emits
    return emit.event


def notifier(*tenants):  # type: ignore[no-untyped-def]
    registry = CollectorRegistry()
    n = Notifier(state=FakeState(), store=MemoryStore(), tenants=FakeTenants(*tenants),
                 metrics=NotifierMetrics(registry))
    return n, registry


async def test_a_paused_template_alerts_every_internal_number_from_the_shops_number() -> None:
    shop = demo_tenant(internal_numbers=[INTERNAL, SECOND])
    n, registry = notifier(shop)
    emits = await n.handle(account_event("template_status_paused"), META)
    assert [e.topic for e in emits] == [OUTBOUND, OUTBOUND]
    replies = [e.event for e in emits]
    assert all(isinstance(r, ReplyRequested) for r in replies)
    assert [r.payload.to.wa_id for r in replies] == [INTERNAL, SECOND]  # type: ignore[union-attr]
    for r in replies:
        assert r.tenant == shop.phone_number_id and parse_conversation_key(r.conversation).phone_number_id == \
            shop.phone_number_id
        assert r.payload.audience == "internal" and r.payload.kind == "text"  # type: ignore[union-attr]
        text = r.payload.text or ""  # type: ignore[union-attr]
        assert "«seguimiento_pedido» (es) fue pausada por Meta (FIRST_PAUSE)" in text
        assert "el bot no la envía" in text
    assert registry.get_sample_value("wapipe_alerts_total", {"kind": "template", "outcome": "sent"}) == 1


async def test_the_same_webhook_again_asks_for_the_same_sends_and_a_second_one_is_rate_limited() -> None:
    n, registry = notifier(demo_tenant(internal_numbers=[INTERNAL]))
    first = await n.handle(account_event("template_status_paused"), META)
    again = await n.handle(account_event("template_status_paused"), META)
    assert [e.event.payload.reply_id for e in first] == [e.event.payload.reply_id for e in again]  # type: ignore[attr-defined]
    # the same news in another webhook within the window: rate limited; other news of that template is not
    assert await n.handle(account_event("template_status_paused", time=1763740860), META) == []
    assert registry.get_sample_value("wapipe_alerts_total", {"kind": "template", "outcome": "rate_limited"}) == 1
    [unpaused] = await n.handle(account_event("template_status_unpaused"), META)
    assert "está aprobada" in (unpaused.event.payload.text or "")  # type: ignore[attr-defined]


async def test_number_quality_and_account_updates_alert() -> None:
    n, _ = notifier(demo_tenant(internal_numbers=[INTERNAL]))
    [quality] = await n.handle(account_event("phone_number_quality_update"), META)
    [account] = await n.handle(account_event("account_update"), META)
    assert "número 15550783881: FLAGGED" in (quality.event.payload.text or "")  # type: ignore[attr-defined]
    assert "TIER_1K" in (quality.event.payload.text or "")  # type: ignore[attr-defined]
    assert "ACCOUNT_RESTRICTION" in (account.event.payload.text or "")  # type: ignore[attr-defined]


async def test_quality_and_category_changes_say_what_changed() -> None:
    n, _ = notifier(demo_tenant(internal_numbers=[INTERNAL]))
    [quality] = await n.handle(account_event("template_quality_update"), META)
    [category] = await n.handle(account_event("template_category_update"), META)
    assert "pasó de GREEN a YELLOW" in (quality.event.payload.text or "")  # type: ignore[attr-defined]
    assert "de UTILITY a MARKETING" in (category.event.payload.text or "")  # type: ignore[attr-defined]


async def test_only_tenants_of_that_account_are_alerted_and_edits_are_not() -> None:
    other = demo_tenant(name="otra", phone_number_id="100000000000002", waba_id="999999999999",
                        internal_numbers=[SECOND])
    n, _ = notifier(demo_tenant(internal_numbers=[INTERNAL]), other)
    emits = await n.handle(account_event("template_status_rejected"), META)
    assert [e.event.payload.to.wa_id for e in emits] == [INTERNAL]  # type: ignore[attr-defined]
    assert await n.handle(account_event("template_components_update"), META) == []
    nobody, _ = notifier(demo_tenant(waba_id=None, internal_numbers=[INTERNAL]))
    assert await nobody.handle(account_event("template_status_rejected"), META) == []

