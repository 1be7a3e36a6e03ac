"""Turn a ReplyRequested into Graph API request bodies (validated with Meta's limits before they leave).

Media replies must be resolved first (`services.sender.media`): a body names its media by `id` or `link` only.
A `context` (quoted message) goes on the first body of the reply.
"""

from __future__ import annotations

from typing import Any

from schemas.events import MEDIA_REPLY_KINDS, ReplyRequestedPayload, TemplateRef
from schemas.meta.graph import MarkRead, parse_request
from services.sender.split import split_text

FREE_FORM = frozenset({"text", "interactive", "reaction", "location", "contacts"}) | MEDIA_REPLY_KINDS
CAPTIONED = frozenset({"image", "video", "document"})


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
    if p.context is not None and p.kind == "template":
        body["context"] = {"message_id": p.context.message_id}
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
    elif p.kind in MEDIA_REPLY_KINDS:
        bodies = [{**_base(p), "type": p.kind, p.kind: _media(p)}]
    elif p.kind == "location":
        if p.location is None:
            raise ValueError("location reply without location")
        bodies = [{**_base(p), "type": "location",
                   "location": p.location.model_dump(exclude_none=True, exclude={"url"})}]
    elif p.kind == "contacts":
        if not p.contacts:
            raise ValueError("contacts reply without contacts")
        bodies = [{**_base(p), "type": "contacts", "contacts": p.contacts}]
    else:
        raise ValueError(f"{p.kind} is not a message")
    if p.context is not None:
        bodies[0]["context"] = {"message_id": p.context.message_id}
    for b in bodies:
        parse_request(b)  # pydantic ValidationError is a ValueError
    return bodies


def _media(p: ReplyRequestedPayload) -> dict[str, Any]:
    m = p.media
    if m is None:
        raise ValueError(f"{p.kind} reply without media")
    if m.media_id is None and m.link is None:
        raise ValueError(f"{p.kind} reply's media is not uploaded yet")
    obj: dict[str, Any] = {"id": m.media_id} if m.media_id is not None else {"link": m.link}
    if m.caption and p.kind in CAPTIONED:
        obj["caption"] = m.caption
    elif m.caption:
        raise ValueError(f"Meta takes no caption on {p.kind}")
    if m.filename and p.kind == "document":
        obj["filename"] = m.filename
    return obj


def read_body(message_id: str, typing: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    MarkRead.model_validate(body)
    return body
