"""A signed body as a webhook payload, or the reason it is none (the 400s). Shared by POST /webhook and
`wapipe reprocess`, so both read a body the same way."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.meta import webhook as wh


class NotAWebhook(ValueError):
    """Not JSON, or not a WhatsApp webhook payload at all (no `object: whatsapp_business_account`, no `entry`
    list). Anything past that envelope is read part by part and never refuses the whole body."""


def read_payload(body: bytes) -> wh.WebhookPayload:
    try:
        return wh.WebhookPayload.model_validate_json(body)
    except ValidationError as e:
        not_json = any(err["type"] == "json_invalid" for err in e.errors())
        raise NotAWebhook("body is not JSON" if not_json else "not a WhatsApp webhook payload") from None
