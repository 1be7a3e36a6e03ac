"""The sender and a customer who opted out: the plan's decision, and the executor over fakes of its ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.events import ReplyFailed, ReplySent, TemplateRef
from schemas.topics import DELIVERY
from services.sender.consent import OptedOut
from services.sender.plan import Deliver, Receipt, Refuse, plan_reply
from services.sender.ports import SendPolicy
from tests.unit.sender.fakes import PNID, USER, meta_error, reply
from tests.unit.sender.test_handlers import META, WITH_TEMPLATE, rig
from wapipe.runtime.types import Emit

OUT_AT = datetime(2026, 11, 18, 19, 0, tzinfo=UTC)
TEMPLATE = {"template": TemplateRef(name="promo_noviembre")}


@pytest.mark.parametrize(("kind", "extra", "window_open", "wrote_since"), [
    ("template", TEMPLATE, True, True),  # a template is business-initiated, always
    ("text", {}, False, True),  # outside the window only the fallback template could go
    ("text", {"in_reply_to": None}, True, False),  # a notification, a proactive message
])
def test_business_initiated_messages_are_refused_with_opted_out(kind: str, extra: dict[str, Any],
                                                                window_open: bool, wrote_since: bool) -> None:
    p = reply(kind=kind, **extra).payload
    plan = plan_reply(p, WITH_TEMPLATE, window_open, OptedOut(wrote_since))
    assert isinstance(plan, Refuse) and plan.reason == "opted_out" and plan.code is None


def test_answers_still_go_but_never_fall_back_to_a_template() -> None:
    answer = plan_reply(reply().payload, WITH_TEMPLATE, True, OptedOut())  # replies to their message
    assert isinstance(answer, Deliver) and answer.window_template is None and answer.no_template_reason
    person = plan_reply(reply(in_reply_to=None).payload, WITH_TEMPLATE, True, OptedOut(wrote_since=True))
    assert isinstance(person, Deliver)  # an operator answering a customer who wrote again
    assert isinstance(plan_reply(reply(kind="read").payload, WITH_TEMPLATE, None, OptedOut()), Receipt)
    staff = plan_reply(reply(audience="internal", in_reply_to=None).payload, WITH_TEMPLATE, True, OptedOut())
    assert isinstance(staff, Deliver) and staff.window_template is not None  # not the customer's message


def refusal(emits: object) -> ReplyFailed:
    assert isinstance(emits, list | tuple) and len(emits) == 1 and isinstance(emits[0], Emit)
    assert emits[0].topic == DELIVERY and isinstance(emits[0].event, ReplyFailed)
    return emits[0].event


async def test_a_window_fallback_to_an_opted_out_customer_is_refused_without_calling_meta() -> None:
    r = rig(window_open=False)
    r.consent.out[USER] = OUT_AT
    failed = refusal(await r.sender.handle(reply(), META))  # returned, not raised: nothing for the DLQ
    assert failed.payload.reason == "opted_out" and failed.payload.permanent and failed.payload.error_code is None
    assert r.graph.posts == []
    assert r.store.traces[0].outcome == "opted_out" and "sender:refused:opted_out" in r.store.traces[0].decision_path
    assert r.metric("wapipe_replies_refused_total", tenant=PNID, reason="opted_out") == 1
    assert r.metric("wapipe_reply_failures_total", tenant=PNID, code="invalid") == 0
    assert r.store.turns == []


async def test_a_notification_inside_the_window_is_refused_until_the_customer_writes_again() -> None:
    r = rig()
    conv = reply().conversation
    r.consent.out[USER] = OUT_AT
    r.window.last[conv] = OUT_AT - timedelta(seconds=1)  # the STOP itself
    assert refusal(await r.sender.handle(reply(in_reply_to=None, n=1), META)).payload.reason == "opted_out"

    r.window.last[conv] = OUT_AT + timedelta(minutes=10)  # "hola, ¿siguen abiertos?"
    sent = await r.sender.handle(reply(in_reply_to=None, n=2), META)
    assert isinstance(sent[0].event, ReplySent) and len(r.graph.accepted) == 1


async def test_an_answer_to_an_opted_out_customer_goes_out() -> None:
    r = rig()
    r.consent.out[USER] = OUT_AT
    sent = await r.sender.handle(reply("Abrimos a las 9."), META)
    assert isinstance(sent[0].event, ReplySent)
    assert [b["type"] for b in r.graph.accepted] == ["text"]


async def test_meta_saying_the_window_closed_to_an_opted_out_customer_sends_no_template() -> None:
    r = rig(meta_error(131047, 400))
    r.consent.out[USER] = OUT_AT
    failed = refusal(await r.sender.handle(reply(), META))
    assert failed.payload.reason == "opted_out" and r.graph.accepted == []
    assert r.metric("wapipe_template_fallbacks_total", tenant=PNID) == 0


async def test_a_customer_who_opted_back_in_gets_the_template_again() -> None:
    r = rig(window_open=False, policy=SendPolicy(window_template=TemplateRef(name="seguimiento")))
    sent = await r.sender.handle(reply(), META)  # FakeConsent: nobody opted out
    assert isinstance(sent[0].event, ReplySent) and sent[0].event.payload.template_fallback
