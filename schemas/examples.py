"""One valid example of every event type: used by the AsyncAPI document and the round-trip tests."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas import events as ev
from schemas.envelope import Envelope, Trace, conversation_key, derive_id

TENANT = "100000000000001"
WABA = "102290129340398"
WA_ID = "573001234567"
USER_ID = "CO.1234567890123456"
WAMID = "wamid.HBgMNTczMDAxMjM0NTY3FQIAEhgUM0EwRjY4QjQ2QkE5RDQ5NkY0QTEA"
AT = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _base(kind: str) -> dict[str, object]:
    return {
        "event_id": derive_id("example", kind),
        "occurred_at": AT,
        "tenant": TENANT,
        "conversation": conversation_key(TENANT, USER_ID),
        "correlation_id": WAMID,
        "trace": Trace(received_at=AT, decision_path=["dedupe:new"]),
    }


def _account(kind: str) -> dict[str, object]:
    return {"event_id": derive_id("example", kind), "occurred_at": AT, "tenant": WABA,
            "conversation": ev.account_conversation(WABA), "correlation_id": f"{kind}.{derive_id('example', kind)}",
            "trace": Trace(received_at=AT)}


def examples() -> list[Envelope]:
    to = ev.Recipient(wa_id=WA_ID, user_id=USER_ID)
    return [
        ev.MessageReceived(**_base("in"), payload=ev.MessageReceivedPayload(
            message_id=WAMID, sender=to, profile_name="Ana", display_phone_number="15550001111", timestamp=AT,
            message_type="text", text="¿A qué hora abren el sábado? 👟", raw={"type": "text"})),
        ev.StatusReceived(**_base("st"), payload=ev.StatusReceivedPayload(
            message_id="wamid.sent1", status="failed", recipient=to, timestamp=AT,
            errors=[ev.MetaError(code=131047, title="Re-engagement message")])),
        ev.AnswerRequested(**_base("ai"), payload=ev.AnswerRequestedPayload(
            message_id=WAMID, to=to, text="¿tienen tenis talla 40 en negro?", intent="otro")),
        ev.ReplyRequested(**_base("out"), payload=ev.ReplyRequestedPayload(
            reply_id=derive_id(WAMID, "guardrails", 0), to=to, kind="text", text="Abrimos de 9 a 7.",
            in_reply_to=WAMID, route="reply")),
        ev.HandoffRequested(**_base("ho"), payload=ev.HandoffRequestedPayload(
            message_id=WAMID, to=to, reason="humano", text="quiero hablar con un asesor",
            requested_by="guardrails")),
        ev.ReplySent(**_base("sent"), payload=ev.ReplySentPayload(
            reply_id=derive_id(WAMID, "guardrails", 0), to=to, kind="text", wamids=["wamid.sent1"])),
        ev.ReplyFailed(**_base("fail"), payload=ev.ReplyFailedPayload(
            reply_id=derive_id(WAMID, "ai", 0), to=to, kind="text", error_code=131026,
            error_title="Message undeliverable")),
        ev.ReplyCancelled(**_base("cancel"), payload=ev.ReplyCancelledPayload(
            reply_id=derive_id(WAMID, "ai", 0), to=to, kind="text", reason="revoked", message_ids=[WAMID])),
        ev.ConsentChanged(**_base("consent"), payload=ev.ConsentChangedPayload(
            user=to, status="opted_out", category="marketing_messages",
            detail="User requested to stop marketing messages", timestamp=AT)),
        ev.BusinessEchoReceived(**_base("echo"), payload=ev.BusinessEchoReceivedPayload(
            message_id="wamid.echo1", to=to, business_number="15550001111", timestamp=AT, message_type="text",
            text="Hola Ana, ya te separé las botas.", raw={"type": "text"})),
        ev.TemplateStatusChanged(**_account("tpl"), payload=ev.TemplateStatusChangedPayload(
            account=WABA, field="message_template_status_update", template_id="1689556908129832",
            name="seguimiento_pedido", language="es", event="PAUSED", reason="NONE", category="UTILITY",
            title="FIRST_PAUSE", description="Your WhatsApp message template has been paused for 3 hours.",
            timestamp=AT, raw={"event": "PAUSED", "message_template_name": "seguimiento_pedido"})),
        ev.AccountEventReceived(**_account("acct"), payload=ev.AccountEventReceivedPayload(
            account=WABA, field="phone_number_quality_update", event="FLAGGED", display_phone_number="15550783881",
            current_limit="TIER_1K", timestamp=AT, raw={"event": "FLAGGED", "current_limit": "TIER_1K"})),
    ]
