"""A template Meta paused, disabled or rejected is not used: the plan refuses it, and the executor fails the reply
with a clear ReplyFailed reason instead of calling the Graph API (fakes of the sender's own ports)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.events import TemplateRef, TemplateStatusChanged, TemplateStatusChangedPayload, account_conversation
from services.sender.plan import (
    TEMPLATE_DISABLED,
    TEMPLATE_PAUSED,
    TEMPLATE_UNAVAILABLE,
    Deliver,
    Refuse,
    plan_reply,
)
from services.sender.ports import SendPolicy
from tests.unit.sender.fakes import PNID, FakeTemplates, meta_error, reply
from tests.unit.sender.test_handlers import META, TEMPLATE, failed_event, rig, sent_event
from wapipe.state.templates import PAUSE_MAX_S, TemplateState, template_key

WABA = "102290129340398"
NOW = 1_763_740_800.0
POLICY = SendPolicy(window_template=TEMPLATE, account=WABA)
PAUSED = TemplateState(status="PAUSED", status_at=NOW - 60, reason="NONE", title="FIRST_PAUSE")


def paused(state: TemplateState = PAUSED, template: TemplateRef = TEMPLATE) -> FakeTemplates:
    t = FakeTemplates()
    t.set(WABA, template, state)
    return t


# -- the plan ------------------------------------------------------------------------------------------------------

def test_a_paused_window_template_is_refused_with_the_reason() -> None:
    blocked = {template_key(TEMPLATE.name, TEMPLATE.language): PAUSED}
    plan = plan_reply(reply().payload, POLICY, window_open=False, blocked=blocked)
    assert plan == Refuse(TEMPLATE_PAUSED, "24 h window closed and the template seguimiento (es) is paused at Meta "
                                           "(FIRST_PAUSE); not sent", step="sender:template_blocked")


@pytest.mark.parametrize(("status", "code"), [("DISABLED", TEMPLATE_DISABLED), ("REJECTED", TEMPLATE_UNAVAILABLE),
                                              ("DELETED", TEMPLATE_UNAVAILABLE)])
def test_a_template_reply_of_a_template_meta_refuses_is_not_planned(status: str, code: int) -> None:
    ev = reply(None, kind="template", template=TEMPLATE)
    blocked = {template_key("seguimiento", "es"): TemplateState(status=status, status_at=NOW)}
    plan = plan_reply(ev.payload, POLICY, None, blocked=blocked)
    assert isinstance(plan, Refuse) and plan.code == code and f"is {status.lower()} at Meta" in plan.title


def test_other_templates_and_an_open_window_are_not_affected() -> None:
    blocked = {template_key("promo_fin_de_semana", "es"): TemplateState(status="PAUSED", status_at=NOW)}
    assert isinstance(plan_reply(reply().payload, POLICY, window_open=False, blocked=blocked), Deliver)
    open_window = plan_reply(reply().payload, POLICY, window_open=True, blocked=blocked)
    assert isinstance(open_window, Deliver) and open_window.window_template == TEMPLATE


@pytest.mark.parametrize(("state", "blocked"), [
    (PAUSED, True),
    (TemplateState(status="PAUSED", status_at=NOW - PAUSE_MAX_S), False),  # the longest pause is over
    (TemplateState(status="APPROVED", status_at=NOW, title="UNPAUSE"), False),
    (TemplateState(status="FLAGGED", status_at=NOW), False),  # at risk, still sendable
    (TemplateState(status="REJECTED", status_at=NOW - 30 * 86400), True),
    (TemplateState(quality="RED"), False),
])
def test_which_states_meta_refuses(state: TemplateState, blocked: bool) -> None:
    assert state.blocked(NOW) is blocked


# -- the executor --------------------------------------------------------------------------------------------------

async def test_window_closed_and_template_paused_fails_without_calling_meta() -> None:
    r = rig(policy=POLICY, window_open=False, templates=paused(), now=NOW)
    failed = await failed_event(r, reply())
    assert failed.payload.error_code == TEMPLATE_PAUSED
    assert failed.payload.error_title is not None and "seguimiento (es) is paused at Meta" in failed.payload.error_title
    assert r.graph.posts == []  # not even a read receipt
    assert "sender:template_blocked" in r.store.traces[0].decision_path
    assert r.metric("wapipe_reply_failures_total", tenant=PNID, code=str(TEMPLATE_PAUSED)) == 1


async def test_meta_saying_the_window_closed_does_not_fall_back_to_a_paused_template() -> None:
    r = rig(meta_error(131047, 400), policy=POLICY, templates=paused(), now=NOW)
    failed = await failed_event(r, reply())
    assert failed.payload.error_code == TEMPLATE_PAUSED
    assert [b.get("type") for b in r.graph.posts if b.get("type")] == ["text"]  # the one attempt, no template
    assert r.graph.accepted == []


async def test_when_the_pause_is_over_the_template_goes_out_again() -> None:
    r = rig(policy=POLICY, window_open=False, templates=paused(), now=NOW + PAUSE_MAX_S)
    sent = sent_event(await r.sender.handle(reply(), META))
    assert sent.payload.template_fallback and [b["type"] for b in r.graph.accepted] == ["template"]


async def test_without_an_account_the_state_is_not_consulted() -> None:
    templates = paused()
    r = rig(policy=SendPolicy(window_template=TEMPLATE), window_open=False, templates=templates, now=NOW)
    sent_event(await r.sender.handle(reply(), META))
    assert templates.asked == []


async def test_the_state_is_read_only_when_a_template_could_be_sent() -> None:
    templates = paused()
    r = rig(policy=POLICY, window_open=True, templates=templates, now=NOW)
    sent_event(await r.sender.handle(reply(), META))
    assert templates.asked == []  # inside the window nothing is read on the way out


async def test_template_webhooks_are_recorded() -> None:
    templates = FakeTemplates()
    r = rig(policy=POLICY, templates=templates, now=NOW)
    change = TemplateStatusChangedPayload(account=WABA, field="message_template_status_update", name="seguimiento",
                                          language="es", event="PAUSED", timestamp=datetime.now(UTC))
    event = TemplateStatusChanged(event_id="e1", tenant=WABA, conversation=account_conversation(WABA),
                                  correlation_id="tpl.1", payload=change)
    assert await r.sender.handle(event, META) == []
    assert templates.recorded == [change]
