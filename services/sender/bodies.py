"""Turn a ReplyRequested into Graph API request bodies (validated with Meta's limits before they leave)."""

from __future__ import annotations

from typing import Any

from schemas.events import ReplyRequestedPayload, TemplateRef
from schemas.meta.graph import MarkRead, parse_request
from services.sender.split import split_text

FREE_FORM = frozenset({"text", "interactive", "reaction"})


def _address(p: ReplyRequestedPayload) -> dict[str, Any]:
    # Phone number when known; otherwise the business-scoped user id (BSUID).
    if p.to.wa_id:
        return {"to": p.to.wa_id}
    return {"recipient": p.to.user_id}


def _base(p: ReplyRequestedPayload) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", **_address(p),
            "biz_opaque_callback_data": p.reply_id[:512]}


def template_body(p: ReplyRequestedPayload, template: TemplateRef) -> dict[str, Any]:
    body = {**_base(p), "type": "template", "template": {
        "name": template.name, "language": {"code": template.language}, "components": template.components}}
    parse_request(body)
    return body


def message_bodies(p: ReplyRequestedPayload) -> list[dict[str, Any]]:
    """The bodies to send in order (a long text becomes several); raises ValueError when unsendable."""
    if p.kind == "text":
        if not p.text or not p.text.strip():
            raise ValueError("text reply without text")
        bodies = [{**_base(p), "type": "text", "text": {"body": part, "preview_url": False}}
                  for part in split_text(p.text)]
    elif p.kind == "interactive":
        if not p.interactive:
            raise ValueError("interactive reply without interactive object")
        bodies = [{**_base(p), "type": "interactive", "interactive": p.interactive}]
    elif p.kind == "template":
        if p.template is None:
            raise ValueError("template reply without template")
        return [template_body(p, p.template)]
    elif p.kind == "reaction":
        if not p.in_reply_to:
            raise ValueError("reaction without the message it reacts to")
        bodies = [{**_base(p), "type": "reaction", "reaction": {"message_id": p.in_reply_to,
                                                                "emoji": p.emoji or ""}}]
    else:
        raise ValueError(f"{p.kind} is not a message")
    for b in bodies:
        parse_request(b)  # pydantic ValidationError is a ValueError
    return bodies


def read_body(message_id: str, typing: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    MarkRead.model_validate(body)
    return body
