"""The sender without Redis, broker or simulator: the pure plan (what goes out, in which order), and the executor
over fakes of its own ports (exactly once, retries by Meta code, template fallback, delivery events, records)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from schemas.events import ReplyCancelled, ReplyFailed, ReplySent, TemplateRef
from schemas.meta.graph import TEXT_MAX
from schemas.topics import DELIVERY
from services.sender.delivery import Delivery, RetryPolicy, SendsExhausted
from services.sender.graph import GraphError
from services.sender.handlers import Sender
from services.sender.metrics import SenderMetrics
from services.sender.outcomes import ReplyFailedError
from services.sender.plan import Deliver, Receipt, Refuse, ToApi, needs_window, plan_reply
from services.sender.ports import SendPolicy, StaticPolicies
from tests.fakes.store import MemoryStore
from tests.unit.sender.fakes import (
    PNID,
    USER,
    ApiReplies,
    FakeConsent,
    FakeGraph,
    FakePacer,
    FakeTemplates,
    FakeTime,
    FakeWindow,
    MemoryAnswers,
    MemoryClaims,
    meta_error,
    reply,
    status,
)
from wapipe.runtime.types import Emit, RecordMeta

META = RecordMeta("wa.outbound.v1", 0, 0, None, None)
TEMPLATE = TemplateRef(name="seguimiento", language="es")
WITH_TEMPLATE = SendPolicy(window_template=TEMPLATE)
LONG = "\n\n".join((f"Sección {i}. " + "Detalle sobre cambios, tallas y envíos. " * 23).strip() for i in range(10))


def buttons(n: int = 2) -> dict[str, Any]:
    return {"type": "button", "body": {"text": "¿Qué talla?"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": f"t{i}", "title": f"{38 + i}"}}
                                   for i in range(n)]}}


# -- the plan: pure -----------------------------------------------------------------------------------------------

def test_a_text_inside_the_window_is_one_part_after_the_read_receipt_and_typing() -> None:
    ev = reply("Sí, hacemos envíos.")
    plan = plan_reply(ev.payload, WITH_TEMPLATE, window_open=True)
    assert isinstance(plan, Deliver) and not plan.template_fallback
    [part] = plan.parts
    rid = ev.payload.reply_id
    assert part.send_id == f"{rid}:0" and part.kind == "text"
    assert part.body["text"] == {"body": "Sí, hacemos envíos.", "preview_url": False}
    assert part.body["to"] == USER and part.body["biz_opaque_callback_data"] == f"{rid}:0"
    assert plan.read == {"messaging_product": "whatsapp", "status": "read", "message_id": ev.correlation_id,
                         "typing_indicator": {"type": "text"}}
    assert plan.window_template == TEMPLATE  # what to send if Meta says the window is closed after all


def test_a_long_text_is_split_into_ordered_parts_meta_accepts() -> None:
    plan = plan_reply(reply(LONG).payload, SendPolicy(), window_open=True)
    assert isinstance(plan, Deliver) and len(LONG) > 2 * TEXT_MAX
    texts = [p.body["text"]["body"] for p in plan.parts]
    assert len(texts) == 3 and all(len(t) <= TEXT_MAX for t in texts)
    assert "\n\n".join(texts) == LONG
    rid = reply(LONG).payload.reply_id
    assert [p.send_id for p in plan.parts] == [f"{rid}:0", f"{rid}:1", f"{rid}:2"]


def test_an_interactive_reply_is_one_interactive_part() -> None:
    plan = plan_reply(reply(None, kind="interactive", interactive=buttons()).payload, SendPolicy(), window_open=True)
    assert isinstance(plan, Deliver) and [p.kind for p in plan.parts] == ["interactive"]
    assert plan.parts[0].body["interactive"]["action"]["buttons"][1]["reply"]["title"] == "39"
    assert plan.read is not None


def test_outside_the_window_the_template_goes_instead_and_nothing_else() -> None:
    ev = reply(LONG)
    plan = plan_reply(ev.payload, WITH_TEMPLATE, window_open=False)
    assert isinstance(plan, Deliver) and plan.template_fallback
    [part] = plan.parts
    assert part.send_id == f"{ev.payload.reply_id}:tpl" and part.kind == "template"
    assert part.body["template"] == {"name": "seguimiento", "language": {"code": "es"}, "components": []}
    assert plan.read is None and plan.window_template is None
    assert plan.steps == ("sender:window_closed_template",)


def test_outside_the_window_without_a_template_nothing_can_be_sent() -> None:
    assert plan_reply(reply().payload, SendPolicy(), window_open=False) == \
        Refuse(131047, "24 h window closed and no template configured")


@pytest.mark.parametrize(("kind", "extra", "needed"), [
    ("text", {}, True), ("interactive", {"interactive": buttons()}, True), ("reaction", {"emoji": "👍"}, True),
    ("template", {"template": TEMPLATE}, False),  # business-initiated: allowed any time
])
def test_which_replies_depend_on_the_window(kind: str, extra: dict[str, Any], needed: bool) -> None:
    ev = reply("hola" if kind == "text" else None, kind=kind, **extra)
    assert needs_window(ev.payload) is needed
    assert needs_window(reply(audience="internal").payload) is False  # staff: Meta decides (131047)
    assert needs_window(reply(channel="api").payload) is False


def test_read_receipt_and_typing_follow_the_tenant_policy() -> None:
    p = reply().payload
    quiet = plan_reply(p, SendPolicy(mark_as_read=False), window_open=True)
    no_typing = plan_reply(p, SendPolicy(typing=False), window_open=True)
    assert isinstance(quiet, Deliver) and quiet.read is None
    assert isinstance(no_typing, Deliver) and no_typing.read is not None and "typing_indicator" not in no_typing.read
    for other in (reply(audience="internal"), reply(None, kind="reaction", emoji="👍")):
        planned = plan_reply(other.payload, SendPolicy(), window_open=True)
        assert isinstance(planned, Deliver) and planned.read is None


def test_bare_receipts_api_replies_and_unsendable_replies() -> None:
    typing = plan_reply(reply(None, kind="typing").payload, SendPolicy(), None)
    assert isinstance(typing, Receipt) and typing.body is not None and "typing_indicator" in typing.body
    read = plan_reply(reply(None, kind="read").payload, SendPolicy(), None)
    assert isinstance(read, Receipt) and read.body is not None and "typing_indicator" not in read.body
    assert plan_reply(reply(None, kind="read", in_reply_to=None).payload, SendPolicy(), None) == Receipt(None)
    assert plan_reply(reply(channel="api").payload, SendPolicy(), None) == ToApi()
    empty = plan_reply(reply("   ").payload, SendPolicy(), window_open=True)
    assert isinstance(empty, Refuse) and empty.code is None and empty.title.startswith("unsendable reply")


# -- the executor over fakes --------------------------------------------------------------------------------------

@dataclass
class Rig:
    sender: Sender
    graph: FakeGraph
    claims: MemoryClaims
    pacer: FakePacer
    window: FakeWindow
    time: FakeTime
    store: MemoryStore
    api: ApiReplies
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    answers: MemoryAnswers = field(default_factory=MemoryAnswers)
    consent: FakeConsent = field(default_factory=FakeConsent)
    templates: FakeTemplates = field(default_factory=FakeTemplates)

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def rig(*script: GraphError | None, policy: SendPolicy = WITH_TEMPLATE, window_open: bool = True,
        attempts: int = 6, doubt_grace_s: float = 15.0, templates: FakeTemplates | None = None,
        now: float = 1_763_740_800.0) -> Rig:
    registry = CollectorRegistry()
    metrics = SenderMetrics(registry)
    graph, claims, pacer, clock = FakeGraph(list(script)), MemoryClaims(), FakePacer(), FakeTime()
    window = FakeWindow({reply().conversation} if window_open else set())
    store, api = MemoryStore(), ApiReplies()
    delivery = Delivery(graph, claims, pacer, metrics, RetryPolicy(attempts=attempts), doubt_grace_s=doubt_grace_s,
                        sleep=clock.sleep, clock=clock.clock)
    answers, consent = MemoryAnswers(), FakeConsent()
    templates = templates or FakeTemplates()
    sender = Sender(delivery=delivery, window=window, policies=StaticPolicies(policy), store=store, turns=store,
                    api_replies=api, metrics=metrics, answers=answers, consent=consent, templates=templates,
                    clock=lambda: now)
    return Rig(sender, graph, claims, pacer, window, clock, store, api, registry, answers, consent, templates)


def sent_event(emits: object) -> ReplySent:
    assert isinstance(emits, list | tuple) and len(emits) == 1 and isinstance(emits[0], Emit)
    assert emits[0].topic == DELIVERY and isinstance(emits[0].event, ReplySent)
    return emits[0].event


async def failed_event(r: Rig, ev: object) -> ReplyFailed:
    with pytest.raises(ReplyFailedError) as info:
        await r.sender.handle(ev, META)  # type: ignore[arg-type]
    [emit] = info.value.emits
    assert emit.topic == DELIVERY and isinstance(emit.event, ReplyFailed) and emit.event.payload.permanent
    return emit.event


async def test_a_reply_goes_out_after_the_read_receipt_and_is_recorded() -> None:
    r = rig()
    ev = reply("Sí, hacemos envíos a todo el país.")
    sent = sent_event(await r.sender.handle(ev, META))

    assert [b.get("status") or b["type"] for b in r.graph.posts] == ["read", "text"]
    assert sent.payload.wamids == ["wamid.out.1"] and sent.payload.parts == 1 and sent.payload.attempts == 1
    assert sent.payload.reply_id == ev.payload.reply_id and not sent.payload.template_fallback
    assert [(t.role, t.text, t.message_ids) for t in r.store.turns] == \
        [("assistant", "Sí, hacemos envíos a todo el país.", ("wamid.out.1",))]
    assert [(t.correlation_id, t.outcome) for t in r.store.traces] == [(ev.correlation_id, "replied")]
    assert "sender:sent" in r.store.traces[0].decision_path
    assert r.claims.keys == {f"{ev.payload.reply_id}:0": "sent:wamid.out.1"}


async def test_a_long_reply_arrives_in_order_as_parts() -> None:
    r = rig()
    sent = sent_event(await r.sender.handle(reply(LONG), META))
    assert "\n\n".join(b["text"]["body"] for b in r.graph.accepted) == LONG
    assert sent.payload.parts == 3 and sent.payload.wamids == ["wamid.out.1", "wamid.out.2", "wamid.out.3"]


async def test_a_reply_already_sent_is_not_sent_again_and_reports_the_same_wamids() -> None:
    r = rig()
    ev = reply(LONG)
    first = sent_event(await r.sender.handle(ev, META))
    again = sent_event(await r.sender.handle(ev, META))  # a redelivery, or another replica
    assert len(r.graph.accepted) == 3
    assert again.payload.wamids == first.payload.wamids and again.event_id == first.event_id
    assert r.metric("wapipe_duplicate_sends_skipped_total", tenant=PNID) == 3


async def test_parts_sent_before_a_crash_are_skipped_on_the_retry() -> None:
    r = rig()
    ev = reply(LONG)
    await r.claims.mark_sent(f"{ev.payload.reply_id}:0", "wamid.before")
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.sent_ids == [f"{ev.payload.reply_id}:1", f"{ev.payload.reply_id}:2"]
    assert sent.payload.wamids == ["wamid.before", "wamid.out.1", "wamid.out.2"]


async def test_a_part_another_replica_is_sending_waits_for_it_and_is_not_sent_twice() -> None:
    r = rig()
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"
    await r.claims.claim(sid, "other-replica")

    async def other_replica_finishes(_: float) -> None:
        await r.claims.mark_sent(sid, "wamid.theirs")

    r.time.on_sleep = other_replica_finishes
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.accepted == [] and sent.payload.wamids == ["wamid.theirs"]
    assert r.time.slept == [0.5]


async def test_a_send_left_in_doubt_waits_for_meta_s_status_before_sending_again() -> None:
    r = rig(doubt_grace_s=15.0)
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"
    await r.claims.claim(sid, "crashed")
    await r.claims.begin(sid)  # it died during the HTTP call
    r.claims.expire(sid)

    async def status_arrives(_: float) -> None:
        if r.time.now >= 1001.0:
            await r.sender.handle(status(sid, "wamid.it-went-out"), META)

    r.time.on_sleep = status_arrives
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.accepted == [] and sent.payload.wamids == ["wamid.it-went-out"]
    assert 1.0 <= sum(r.time.slept) < 15.0


async def test_a_send_in_doubt_and_never_confirmed_goes_out_after_the_grace() -> None:
    r = rig(doubt_grace_s=15.0)
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"
    await r.claims.claim(sid, "crashed")
    await r.claims.begin(sid)
    r.claims.expire(sid)
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.sent_ids == [sid] and sent.payload.wamids == ["wamid.out.1"]
    assert r.time.now >= 1000.0 + 15.0  # the whole grace was given


class RedisFailsOnce(MemoryClaims):
    """Redis goes away after the Graph API accepted a part: the "sent" mark is not written, the lease stays."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True

    async def mark_sent(self, send_id: str, wamid: str) -> None:
        if self.down:
            self.down = False
            raise ConnectionError("redis went away")
        await super().mark_sent(send_id, wamid)


async def test_a_retried_record_takes_its_own_lease_back_at_once() -> None:
    r = rig(doubt_grace_s=15.0)
    r.sender.delivery.claims = r.claims = RedisFailsOnce()  # type: ignore[attr-defined]
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"
    with pytest.raises(ConnectionError):
        await r.sender.handle(ev, META)
    assert r.graph.sent_ids == [sid]

    async def status_arrives(_: float) -> None:  # Meta's status for the part that went out
        await r.sender.handle(status(sid, "wamid.out.1"), META)

    r.time.on_sleep = status_arrives
    sent = sent_event(await r.sender.handle(ev, META))  # the runtime retrying the same record
    assert sent.payload.wamids == ["wamid.out.1"] and r.graph.sent_ids == [sid]
    assert 0.5 not in r.time.slept  # never waited for a lease: it was this record's own


async def test_another_replica_never_takes_over_a_live_lease_of_the_same_record() -> None:
    r = rig()
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"
    other = rig()
    other.sender.delivery = r.sender.delivery  # the same Redis and Graph API; another process (instance)
    await r.claims.claim(sid, f"{other.sender.instance}:{META.topic}:{META.partition}:{META.offset}")

    async def holder_finishes(_: float) -> None:
        await r.claims.mark_sent(sid, "wamid.theirs")

    r.time.on_sleep = holder_finishes
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.accepted == [] and sent.payload.wamids == ["wamid.theirs"] and r.time.slept == [0.5]


@pytest.mark.parametrize("error", [
    meta_error(131000, 400), meta_error(131016, 400), meta_error(1, 400), meta_error(2, 400),  # the code decides
    meta_error(None, 502), GraphError(None, None, "transport: ConnectError"),
], ids=["131000", "131016", "1", "2", "http502", "connect"])
async def test_transient_meta_errors_are_retried_with_backoff_then_delivered(error: GraphError) -> None:
    r = rig(error, error)
    sent = sent_event(await r.sender.handle(reply(), META))
    assert len(r.graph.accepted) == 1 and sent.payload.attempts == 3
    assert len(r.time.slept) == 2 and all(s > 0 for s in r.time.slept)
    assert r.pacer.pauses == []  # only this send backs off
    code = str(error.code or error.http_status or "timeout")
    assert r.metric("wapipe_graph_retries_total", tenant=PNID, code=code) == 2


async def test_the_number_s_throughput_limit_pauses_every_conversation_of_the_number() -> None:
    r = rig(meta_error(130429, 429))
    sent = sent_event(await r.sender.handle(reply(), META))
    assert sent.payload.attempts == 2
    [(number, user, seconds)] = r.pacer.pauses
    assert (number, user) == (PNID, None) and seconds == r.time.slept[0]


async def test_the_pair_limit_pauses_only_this_conversation_longer_each_time() -> None:
    r = rig(meta_error(131056, 400), meta_error(131056, 400))
    sent = sent_event(await r.sender.handle(reply(), META))
    assert sent.payload.attempts == 3
    assert r.pacer.pauses == [(PNID, USER, 4.0), (PNID, USER, 16.0)]


async def test_the_pacing_wait_is_awaited_before_the_send() -> None:
    r = rig()
    r.pacer.waits = [2.5]
    await r.sender.handle(reply(), META)
    assert r.time.slept == [2.5] and r.pacer.reserved == [(PNID, USER)]


@pytest.mark.parametrize("code", [131026, 131050, 132000, 368, 190, 100, 131009])
async def test_permanent_meta_errors_fail_at_once_with_a_delivery_event(code: int) -> None:
    r = rig(meta_error(code, 400, f"error {code}"))
    ev = reply()
    failed = await failed_event(r, ev)
    assert failed.payload.error_code == code and failed.payload.attempts == 1
    assert failed.payload.reply_id == ev.payload.reply_id and failed.payload.error_title == f"error {code}"
    assert r.graph.accepted == [] and r.time.slept == []
    assert r.claims.keys == {}  # released: a replay from the DLQ may try again
    assert [t.outcome for t in r.store.traces] == ["failed"] and r.store.turns == []
    assert r.metric("wapipe_reply_failures_total", tenant=PNID, code=str(code)) == 1


async def test_transient_errors_that_outlast_the_attempts_leave_the_record_to_the_runtime() -> None:
    r = rig(*[meta_error(131000, 500)] * 3, attempts=3)
    with pytest.raises(SendsExhausted):
        await r.sender.handle(reply(), META)
    assert r.claims.keys == {} and r.store.traces == []  # no ReplyFailed: the runtime retries the record


async def test_meta_saying_the_window_closed_sends_the_template_once() -> None:
    r = rig(meta_error(131047, 400))
    ev = reply(LONG)
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.sent_ids == [f"{ev.payload.reply_id}:tpl"] and r.graph.accepted[0]["type"] == "template"
    assert sent.payload.template_fallback and sent.payload.wamids == ["wamid.out.1"]
    assert "sender:131047_template" in r.store.traces[0].decision_path
    assert r.metric("wapipe_template_fallbacks_total", tenant=PNID) == 1


async def test_meta_saying_the_window_closed_without_a_template_fails() -> None:
    r = rig(meta_error(131047, 400, "Re-engagement message"), policy=SendPolicy())
    failed = await failed_event(r, reply())
    assert failed.payload.error_code == 131047 and r.graph.accepted == []


async def test_our_clock_saying_the_window_is_closed_sends_only_the_template() -> None:
    r = rig(window_open=False)
    sent = sent_event(await r.sender.handle(reply(), META))
    assert [b.get("status") or b["type"] for b in r.graph.posts] == ["template"]
    assert sent.payload.template_fallback and r.window.asked == [reply().conversation]
    assert [(t.role, t.text) for t in r.store.turns] == [("assistant", "Hola, con gusto te ayudo.")]


async def test_window_closed_and_no_template_fails_without_calling_meta() -> None:
    r = rig(window_open=False, policy=SendPolicy())
    failed = await failed_event(r, reply())
    assert failed.payload.error_code == 131047 and r.graph.posts == []


async def test_an_unsendable_reply_fails_without_calling_meta() -> None:
    r = rig()
    failed = await failed_event(r, reply(None, kind="interactive", interactive=buttons(4)))
    assert failed.payload.error_code is None and r.graph.posts == []


async def test_a_lost_read_receipt_never_holds_up_the_answer() -> None:
    r = rig()
    r.graph.reads_fail = True
    sent = sent_event(await r.sender.handle(reply(), META))
    assert sent.payload.wamids == ["wamid.out.1"]


async def test_a_timeout_after_meta_accepted_is_not_sent_again_once_its_status_arrives() -> None:
    r = rig(GraphError(None, None, "timeout: ReadTimeout"), doubt_grace_s=15.0)
    ev = reply()
    sid = f"{ev.payload.reply_id}:0"

    async def status_arrives(_: float) -> None:
        await r.sender.handle(status(sid, "wamid.accepted"), META)

    r.time.on_sleep = status_arrives
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.accepted == [] and sent.payload.wamids == ["wamid.accepted"]
    assert len([b for b in r.graph.posts if b.get("type") == "text"]) == 1


async def test_a_status_marks_the_send_sent_so_a_redelivered_reply_is_skipped() -> None:
    r = rig()
    ev = reply()
    await r.sender.handle(status(f"{ev.payload.reply_id}:0", "wamid.from-status"), META)
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.accepted == [] and sent.payload.wamids == ["wamid.from-status"]
    assert r.metric("wapipe_message_status_total", tenant=PNID, status="delivered", code="") == 1


async def test_bare_receipts_send_the_receipt_and_emit_nothing() -> None:
    r = rig()
    assert await r.sender.handle(reply(None, kind="typing"), META) == []
    assert r.graph.posts == [{"messaging_product": "whatsapp", "status": "read",
                              "message_id": reply().correlation_id, "typing_indicator": {"type": "text"}}]
    assert r.window.asked == [] and r.store.traces == []


async def test_an_api_chat_reply_goes_back_to_the_waiting_request_not_to_meta() -> None:
    r = rig()
    ev = reply("Abrimos de 9 a 19.", channel="api", route="faq")
    sent = sent_event(await r.sender.handle(ev, META))
    assert r.graph.posts == [] and sent.payload.wamids == [] and sent.payload.channel == "api"
    [(cid, pushed)] = r.api.pushed
    assert cid == ev.correlation_id and pushed.reply == "Abrimos de 9 a 19." and pushed.route == "faq"


async def test_who_answered_is_recorded_and_staff_messages_are_not() -> None:
    r = rig()
    await r.sender.handle(reply("Hola, soy Laura.", origin="operator:laura"), META)
    await r.sender.handle(reply("Caso nuevo", n=1, audience="internal"), META)
    assert [(t.role, t.text) for t in r.store.turns] == [("human", "Hola, soy Laura.")]
    assert len(r.store.traces) == 1


async def test_a_reply_to_messages_the_customer_withdrew_is_cancelled_not_sent() -> None:
    r = rig()
    ev = reply(covers=["wamid.in.q", "wamid.in.r"])
    r.answers.cancelled.update({"wamid.in.q": "revoked", "wamid.in.r": "revoked"})
    [emit] = await r.sender.handle(ev, META)
    assert emit.topic == DELIVERY and isinstance(emit.event, ReplyCancelled)
    assert (emit.event.payload.reason, emit.event.payload.message_ids) == ("revoked", ["wamid.in.q", "wamid.in.r"])
    assert r.graph.posts == [] and r.store.turns == []  # not even a read receipt
    assert [(t.outcome, t.decision_path[-1]) for t in r.store.traces] == [("cancelled", "sender:cancelled:revoked")]
    assert r.metric("wapipe_replies_cancelled_total", tenant=PNID, reason="revoked") == 1
    assert r.metric("wapipe_replies_total", tenant=PNID, channel="whatsapp", outcome="sent") == 0


async def test_a_reply_still_answering_one_message_goes_out_and_marks_it_answered() -> None:
    r = rig()
    r.answers.cancelled["wamid.in.q"] = "edited"
    sent_event(await r.sender.handle(reply(covers=["wamid.in.q", "wamid.in.r"]), META))
    assert r.answers.answered == {"wamid.in.r"} and len(r.graph.accepted) == 1


async def test_turns_are_kept_under_the_conversation_keys_user() -> None:
    """The customer's key may be their first id (a BSUID) while this reply goes to the phone they wrote from."""
    r = rig()
    ev = reply()
    ev = ev.model_copy(update={"conversation": f"{PNID}:CO.1297408873021955"})
    r.window.open.add(ev.conversation)
    sent_event(await r.sender.handle(ev, META))
    assert [(t.user, t.role) for t in r.store.turns] == [("CO.1297408873021955", "assistant")]
    assert r.graph.accepted[0]["to"] == USER
