"""The direct channel (/api/chat) and WhatsApp never share a conversation: the events refuse to be built (or
decoded) otherwise, so no stage can mix them up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.envelope import api_user, conversation_key, is_api_user, is_whatsapp_user
from schemas.events import (
    AnswerRequested,
    AnswerRequestedPayload,
    MessageReceived,
    MessageReceivedPayload,
    Recipient,
    ReplyRequested,
    ReplyRequestedPayload,
    decode_event,
    encode_event,
)

TENANT = "100000000000001"
NUMBER = "573001234567"
AT = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def inbound(channel: str, sender: Recipient, conversation: str) -> MessageReceived:
    return MessageReceived(event_id="e1", tenant=TENANT, conversation=conversation, correlation_id="m1",
                           payload=MessageReceivedPayload(channel=channel, message_id="m1", sender=sender,
                                                          timestamp=AT, message_type="text", text="hola"))


def test_the_direct_channel_user_has_its_own_form() -> None:
    assert api_user(NUMBER) == "api:573001234567" and is_api_user(api_user(NUMBER))
    assert conversation_key(TENANT, api_user(NUMBER)) == f"{TENANT}:api:{NUMBER}" != conversation_key(TENANT, NUMBER)
    assert is_whatsapp_user(NUMBER) and is_whatsapp_user("CO.1297408873021955")
    assert not is_whatsapp_user(api_user(NUMBER)) and not is_whatsapp_user("")


def test_consistent_events_round_trip() -> None:
    user = api_user(NUMBER)
    direct = inbound("api", Recipient(user_id=user), conversation_key(TENANT, user))
    whatsapp = inbound("whatsapp", Recipient(wa_id=NUMBER), conversation_key(TENANT, NUMBER))
    for e in (direct, whatsapp):
        assert decode_event(encode_event(e)) == e


@pytest.mark.parametrize(("channel", "sender", "conversation"), [
    ("api", Recipient(user_id=NUMBER), conversation_key(TENANT, NUMBER)),  # a direct message as the customer
    ("api", Recipient(user_id=api_user(NUMBER)), conversation_key(TENANT, NUMBER)),  # ... in their conversation
    ("whatsapp", Recipient(wa_id=api_user(NUMBER)), conversation_key(TENANT, api_user(NUMBER))),
    ("whatsapp", Recipient(wa_id=NUMBER), conversation_key(TENANT, api_user(NUMBER))),
    ("whatsapp", Recipient(user_id="a:b"), conversation_key(TENANT, "a:b")),
])
def test_mixed_namespaces_are_refused(channel: str, sender: Recipient, conversation: str) -> None:
    with pytest.raises(ValidationError):
        inbound(channel, sender, conversation)


def test_a_request_or_reply_cannot_cross_from_the_direct_channel_to_whatsapp() -> None:
    direct_conv = conversation_key(TENANT, api_user(NUMBER))
    with pytest.raises(ValidationError):  # an answer for the direct channel addressed to the WhatsApp customer
        AnswerRequested(event_id="a1", tenant=TENANT, conversation=direct_conv, correlation_id="m1",
                        payload=AnswerRequestedPayload(channel="api", message_id="m1", to=Recipient(wa_id=NUMBER),
                                                       text="hola"))
    with pytest.raises(ValidationError):  # a WhatsApp send to a direct-channel user
        ReplyRequested(event_id="r1", tenant=TENANT, conversation=direct_conv, correlation_id="m1",
                       payload=ReplyRequestedPayload(reply_id="r1", to=Recipient(user_id=api_user(NUMBER)),
                                                     kind="text", text="hola"))
    # the shop's staff may be told about a direct-channel conversation (a handoff), over WhatsApp
    note = ReplyRequested(event_id="r2", tenant=TENANT, conversation=direct_conv, correlation_id="m1",
                          payload=ReplyRequestedPayload(reply_id="r2", audience="internal",
                                                        to=Recipient(wa_id="573000000099"), kind="text", text="x"))
    assert note.payload.channel == "whatsapp"
