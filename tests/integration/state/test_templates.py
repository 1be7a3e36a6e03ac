"""Template state on the real Redis, fed by the normalised template webhooks: a pause blocks, the unpause frees,
an older webhook (re-published, late) never overwrites a newer one, aspects are kept apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

from schemas.events import TemplateRef, TemplateStatusChangedPayload
from schemas.meta.webhook import WebhookPayload
from services.ingress.normalize import normalize
from wapipe.state.templates import KEY_TTL_S, TemplateStates

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
WABA = "102290129340398"
TRACKING = TemplateRef(name="seguimiento_pedido", language="es")


def change(sample: str, **edit: object) -> TemplateStatusChangedPayload:
    """A template webhook sample as ingress normalises it (`edit` changes the value first)."""
    doc = json.loads((DATA / f"{sample}.json").read_text())
    doc["entry"][0]["changes"][0]["value"].update(edit)
    event = normalize(WebhookPayload.model_validate(doc), datetime.now(UTC)).emits[0].event
    assert isinstance(event.payload, TemplateStatusChangedPayload)
    return event.payload


async def state(states: TemplateStates, template: TemplateRef = TRACKING):  # type: ignore[no-untyped-def]
    return (await states.states(WABA, [template])).get((template.name, template.language))


async def test_paused_then_unpaused(redis_client: aioredis.Redis) -> None:
    states = TemplateStates(redis_client)
    paused = change("template_status_paused")
    assert await states.record(paused)
    now = paused.timestamp.timestamp()
    s = await state(states)
    assert s is not None and (s.status, s.title) == ("PAUSED", "FIRST_PAUSE") and s.blocked(now + 60)
    assert await states.record(change("template_status_unpaused"))
    s = await state(states)
    assert s is not None and s.status == "APPROVED" and not s.blocked(now + 60)
    ttl = await redis_client.ttl(TemplateStates.key(WABA, TRACKING.name, TRACKING.language))
    assert 0 < ttl <= KEY_TTL_S


async def test_an_older_webhook_does_not_bring_back_an_older_status(redis_client: aioredis.Redis) -> None:
    states = TemplateStates(redis_client)
    paused = change("template_status_paused")
    assert await states.record(change("template_status_unpaused"))  # the later one first (reprocess, redelivery)
    assert not await states.record(paused)
    s = await state(states)
    assert s is not None and s.status == "APPROVED"
    assert await states.record(change("template_status_unpaused"))  # the same one again: harmless


async def test_quality_and_category_are_kept_beside_the_status(redis_client: aioredis.Redis) -> None:
    states = TemplateStates(redis_client)
    assert await states.record(change("template_status_paused"))
    assert await states.record(change("template_quality_update"))
    assert await states.record(change("template_category_update"))
    assert not await states.record(change("template_components_update"))  # nothing kept from it
    s = await state(states)
    assert s is not None and (s.status, s.quality, s.category) == ("PAUSED", "YELLOW", "MARKETING")


async def test_languages_are_matched_as_meta_and_tenants_write_them(redis_client: aioredis.Redis) -> None:
    states = TemplateStates(redis_client)
    assert await states.record(change("template_status_rejected", message_template_language="en-US"))
    got = await states.states(WABA, [TemplateRef(name="carrito_abandonado", language="en_US"),
                                     TemplateRef(name="carrito_abandonado", language="es")])
    assert list(got) == [("carrito_abandonado", "en_us")] and got[("carrito_abandonado", "en_us")].status == "REJECTED"


async def test_nothing_known_is_nothing_returned(redis_client: aioredis.Redis) -> None:
    assert await TemplateStates(redis_client).states(WABA, [TRACKING]) == {}
    assert await TemplateStates(redis_client).states(WABA, []) == {}


def test_the_unpause_sample_comes_three_hours_after_the_pause() -> None:  # the ordering tests rely on it
    assert change("template_status_unpaused").timestamp - change("template_status_paused").timestamp == timedelta(
        hours=3)
