"""Guardrails on the real Redis, a SQLite store and the real broker, with messages normalised from webhooks as
Meta sends them: system messages, revokes, edits, reactions and Flow answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from schemas import topics
from schemas.envelope import conversation_key
from schemas.events import AnswerRequested, IdentityMove, MessageReceived, ReplyRequested
from schemas.meta.webhook import WebhookPayload
from services.guardrails.app import build_handler
from services.guardrails.config import GuardrailsSettings
from services.guardrails.handlers import GuardrailsHandler
from services.ingress.normalize import normalize
from tests.integration.guardrails.test_worker import running_guardrails
from tests.support import read_topic
from tests.unit.guardrails.messages import meta
from wapipe.runtime.types import Emit
from wapipe.state.answers import Answers
from wapipe.state.pending import PendingMessages
from wapipe.state.shadow import ShadowMode
from wapipe.state.window import ServiceWindow
from wapipe.store import Store, Turn, open_store
from wapipe.tenants import TenantRegistry

TENANTS = Path(__file__).parents[3] / "config" / "tenants"
DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"
TENANT, BSUID, NEW_BSUID = "100000000000001", "CO.1297408873021955", "CO.5550001112223334"
CONV = conversation_key(TENANT, BSUID)


def from_meta(name: str, **message: Any) -> MessageReceived:
    """The event ingress makes of a sample webhook (with the message's fields overridden)."""
    doc = json.loads((DATA / f"{name}.json").read_text())
    doc["entry"][0]["changes"][0]["value"]["messages"][0].update(message)
    [emit] = normalize(WebhookPayload.model_validate(doc), datetime.now(UTC)).emits
    assert isinstance(emit.event, MessageReceived)
    return emit.event


ORIGINAL = from_meta("message_text").payload.message_id  # what the edit and revoke samples point at


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite:///{tmp_path}/wapipe.db")
    await s.migrate()
    yield s
    await s.close()


@pytest.fixture
def handler(redis_client: aioredis.Redis, store: Store) -> GuardrailsHandler:
    return build_handler(GuardrailsSettings(), redis=redis_client, store=store, tenants=TenantRegistry(TENANTS),
                         registry=CollectorRegistry())


async def test_a_revoke_cancels_the_pending_answer_and_marks_the_stored_message_deleted(
        handler: GuardrailsHandler, redis_client: aioredis.Redis, store: Store) -> None:
    question = from_meta("message_text", text={"body": "¿tienen botas de cuero en talla 38?"})
    [ai] = await handler(question, meta(0))
    assert isinstance(ai.event, AnswerRequested)
    assert await handler(from_meta("message_revoke"), meta(1)) == []

    assert await Answers(redis_client).cancelled(TENANT, ORIGINAL) == "revoked"  # the AI stage and sender see it
    assert (await PendingMessages(redis_client).read(CONV))[0] == []  # off the burst list
    [turn] = await store.last_turns(TENANT, BSUID)  # kept by guardrails when it arrived, deleted now
    assert turn.deleted and turn.text == "" and turn.message_ids == (ORIGINAL,)
    [trace] = await store.traces_by_correlation(from_meta("message_revoke").correlation_id)
    assert (trace.outcome, trace.route) == ("revoked", "revoke") and "revoke:cancelled" in trace.decision_path


async def test_an_edit_before_the_answer_went_out_is_answered_with_its_text(
        handler: GuardrailsHandler, redis_client: aioredis.Redis) -> None:
    [first] = await handler(from_meta("message_text", text={"body": "¿a qué hora abren?"}), meta(0))
    assert isinstance(first.event, ReplyRequested) and first.event.payload.covers == [ORIGINAL]
    edit = from_meta("message_edit", edit={"original_message_id": ORIGINAL, "message": {
        "type": "text", "text": {"body": "¿reciben Nequi?"}}})
    [again] = await handler(edit, meta(1))
    assert isinstance(again.event, ReplyRequested) and "Nequi" in (again.event.payload.text or "")
    assert again.event.payload.covers == [edit.payload.message_id]
    # the first answer has not been claimed by the sender: it will be cancelled there
    assert await Answers(redis_client).begin(TENANT, [ORIGINAL]) == "edited"


async def test_an_edit_of_an_answered_message_is_recorded_not_answered(
        handler: GuardrailsHandler, redis_client: aioredis.Redis, store: Store) -> None:
    await handler(from_meta("message_text", text={"body": "¿a qué hora abren?"}), meta(0))
    assert await Answers(redis_client).begin(TENANT, [ORIGINAL]) is None  # the sender began sending the answer
    assert await handler(from_meta("message_edit"), meta(1)) == []
    [trace] = await store.traces_by_correlation(from_meta("message_edit").correlation_id)
    assert (trace.outcome, trace.route) == ("edit_recorded", "edit_recorded")
    [turn] = await store.last_turns(TENANT, BSUID)  # the original's turn, kept by guardrails, now edited
    assert turn.edited and turn.text == "Hola 👋 ¿tienen tenis Nike talla 41 en blanco?"
    assert turn.message_ids == (ORIGINAL,)


async def test_a_system_message_moves_the_conversation_and_is_not_answered(
        handler: GuardrailsHandler, redis_client: aioredis.Redis, store: Store) -> None:
    await handler(from_meta("message_text", text={"body": "hola"}), meta(0))
    await store.append_turn(Turn(TENANT, BSUID, datetime.now(UTC), "assistant", "¡Hola! ¿En qué te ayudo?"))
    await ShadowMode(redis_client).activate(CONV, "humano", "guardrails", ttl_s=3600)
    new_conv = conversation_key(TENANT, NEW_BSUID)
    change = from_meta("message_system_user_changed_number")
    change = change.model_copy(update={"conversation": new_conv, "payload": change.payload.model_copy(update={
        "identity_move": IdentityMove(from_conversation=CONV, reason="user_changed_number")})})  # as ingress keys it
    assert await handler(change, meta(1)) == []

    assert [t.text for t in await store.last_turns(TENANT, NEW_BSUID)] == ["hola", "¡Hola! ¿En qué te ayudo?"]
    assert await store.last_turns(TENANT, BSUID) == []
    assert await ShadowMode(redis_client).is_active(new_conv) and not await ShadowMode(redis_client).is_active(CONV)
    assert await ServiceWindow(redis_client).last_inbound(new_conv) is not None
    [trace] = await store.traces_by_correlation(change.correlation_id)
    assert (trace.outcome, trace.route, trace.conversation) == ("system", "system", new_conv)
    assert trace.attrs["moved_records"] == 2


async def test_a_flow_answer_goes_to_the_model_with_its_fields(handler: GuardrailsHandler) -> None:
    [req] = await handler(from_meta("message_interactive_nfm_reply"), meta(0))
    assert isinstance(req.event, AnswerRequested)
    assert req.event.payload.flow is not None and req.event.payload.flow.fields == {"talla": "40", "color": "negro"}
    assert req.event.trace.attrs["rule"] == "flow:default"


async def test_on_the_broker_none_of_them_is_answered(kafka_bootstrap: str, topic_prefix: str, group_id: str,
                                                     redis_url: str, redis_client: aioredis.Redis) -> None:
    silent = [from_meta("message_system"), from_meta("message_system_user_changed_user_id"),
              from_meta("message_system_identity_changed"), from_meta("message_revoke"),
              from_meta("message_reaction")]
    answered = from_meta("message_text", id="wamid.SENTINEL", text={"body": "¿a qué hora abren?"})
    async with running_guardrails(kafka_bootstrap, topic_prefix, group_id, redis_url, redis_client) as producer:
        for event in (*silent, answered):  # one conversation: decided in this order
            await producer.publish(Emit(topics.INBOUND_UNDERSTOOD, event))
        outbound = await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + topics.OUTBOUND, expect=1,
                                           idle=2.0)
        others = [await asyncio.to_thread(read_topic, kafka_bootstrap, topic_prefix + t, idle=1.0)
                  for t in (topics.AI_REQUESTS, topics.HANDOFF)]
    assert [r.event().correlation_id for r in outbound] == ["wamid.SENTINEL"]
    assert others == [[], []]
