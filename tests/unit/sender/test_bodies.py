"""Reply events become Graph API bodies Meta accepts, addressed by phone or BSUID, tagged with the reply id."""

from __future__ import annotations

import pytest

from schemas.events import Recipient, ReplyRequestedPayload
from services.sender.bodies import message_bodies, read_body


def test_text_by_bsuid_carries_reply_id() -> None:
    p = ReplyRequestedPayload(reply_id="r1", to=Recipient(user_id="CO.99"), kind="text", text="hola")
    [body] = message_bodies(p)
    assert body["recipient"] == "CO.99" and "to" not in body
    assert body["biz_opaque_callback_data"] == "r1" and body["text"]["body"] == "hola"


def test_too_many_buttons_refused_before_sending() -> None:
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": "ok"}} for i in range(4)]
    p = ReplyRequestedPayload(reply_id="r2", to=Recipient(wa_id="573001"), kind="interactive",
                              interactive={"type": "button", "body": {"text": "Elige"}, "action": {"buttons": buttons}})
    with pytest.raises(ValueError):
        message_bodies(p)


def test_read_with_typing_indicator() -> None:
    assert read_body("wamid.1", typing=True) == {"messaging_product": "whatsapp", "status": "read",
                                                 "message_id": "wamid.1", "typing_indicator": {"type": "text"}}
