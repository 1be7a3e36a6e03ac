"""Meta's WhatsApp Cloud API webhook (Graph API v25.0), as pydantic v2 models.

Every model accepts unknown fields (Meta adds fields without notice) and keeps them in `model_extra`.
A message whose `type` we do not model (or whose typed object is missing) parses as `UnsupportedMessage`,
which keeps every field it arrived with, so the raw object is never lost and never fails the batch.

Each entry, change, message and status is read on its own: one that does not fit its model becomes an
`Unreadable` holding the part exactly as it was parsed from the body and why it was refused, and the rest of the
payload is read as usual. Only the envelope (`object`, `entry` as a list) can fail the whole payload.

The message models and the part reader live in `schemas.meta.messages`; this module holds the rest (statuses,
values, changes, entries, the payload) and re-exports every name of both.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from schemas.meta.messages import (
    _PART,
    MODELLED_TYPES,
    TYPE_ALIASES,
    AudioMessage,
    ButtonMessage,
    ContactsMessage,
    DocumentMessage,
    EditMessage,
    ImageMessage,
    InteractiveMessage,
    LocationMessage,
    Message,
    OrderMessage,
    ReactionMessage,
    RevokeMessage,
    StickerMessage,
    SystemMessage,
    TextMessage,
    Unreadable,
    UnsupportedMessage,
    VideoMessage,
    _each,
    explain,
)
from schemas.meta.objects import (
    ButtonObject,
    ButtonReply,
    Contact,
    Context,
    DigitId,
    EditObject,
    EpochSeconds,
    ErrorData,
    InteractiveObject,
    ListReply,
    LocationObject,
    MediaObject,
    Metadata,
    NfmReply,
    OrderObject,
    ProductItem,
    Profile,
    ReactionObject,
    Referral,
    RevokeObject,
    SharedContact,
    SystemObject,
    TextBody,
    WebhookError,
    _Open,
)


class ConversationOrigin(_Open):
    type: str | None = None


class StatusConversation(_Open):
    id: str | None = None
    expiration_timestamp: str | None = None
    origin: ConversationOrigin | None = None


class Pricing(_Open):
    billable: bool | None = None
    pricing_model: str | None = None
    category: str | None = None
    type: str | None = None


class Status(_Open):
    """What happened to a message the business sent."""

    id: str
    status: str  # sent | delivered | read | failed | played (kept open: Meta adds values)
    timestamp: EpochSeconds
    recipient_id: DigitId | None = None
    recipient_user_id: str | None = None
    conversation: StatusConversation | None = None
    pricing: Pricing | None = None
    errors: list[WebhookError] = Field(default_factory=list)
    biz_opaque_callback_data: str | None = None


class Value(_Open):
    """`changes[].value`. The `messages` field carries metadata/contacts/messages/statuses; other fields keep
    their own keys in `model_extra`. Each message and status is read on its own (`Unreadable` when it does not
    fit); metadata and contacts are the context of every message, so a change whose context is unreadable is."""

    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Annotated[Message | Unreadable, _each(Message), _PART]] = Field(default_factory=list)
    statuses: list[Annotated[Status | Unreadable, _each(Status), _PART]] = Field(default_factory=list)
    # `smb_message_echoes`: what the business sent from the WhatsApp Business app on this number (coexistence),
    # each a message object plus `to` (the customer); read like messages, one by one.
    message_echoes: list[Annotated[Message | Unreadable, _each(Message), _PART]] = Field(default_factory=list)
    errors: list[WebhookError] = Field(default_factory=list)


class EchoAddress(_Open):
    """Who an echo went to: `to` (the customer's phone number, as the app addressed it) and, with business-scoped
    user ids, `to_user_id`. Read from the echo's own fields (a message object keeps them in `model_extra`)."""

    to: DigitId | None = None
    to_user_id: str | None = None


class Change(_Open):
    field: str
    value: Value


class Entry(_Open):
    id: DigitId  # WhatsApp Business Account id
    changes: list[Annotated[Change | Unreadable, _each(Change), _PART]] = Field(default_factory=list)


class WebhookPayload(_Open):
    """The body Meta POSTs to the webhook."""

    object: Literal["whatsapp_business_account"]
    entry: list[Annotated[Entry | Unreadable, _each(Entry), _PART]]

    def update_count(self) -> int:
        """Messages + statuses + echoes + errors in this delivery (Meta batches up to 1,000)."""
        return sum(len(c.value.messages) + len(c.value.statuses) + len(c.value.message_echoes) + len(c.value.errors)
                   for e in self.entry if isinstance(e, Entry) for c in e.changes if isinstance(c, Change))


# This module is the webhook's public face: the message models and the objects they hold are read through it.
__all__ = [
    "AudioMessage",
    "ButtonMessage",
    "ButtonObject",
    "ButtonReply",
    "Change",
    "Contact",
    "ContactsMessage",
    "Context",
    "ConversationOrigin",
    "DigitId",
    "DocumentMessage",
    "EchoAddress",
    "EditMessage",
    "EditObject",
    "Entry",
    "EpochSeconds",
    "ErrorData",
    "explain",
    "ImageMessage",
    "InteractiveMessage",
    "InteractiveObject",
    "ListReply",
    "LocationMessage",
    "LocationObject",
    "MediaObject",
    "Message",
    "Metadata",
    "MODELLED_TYPES",
    "NfmReply",
    "_Open",
    "OrderMessage",
    "OrderObject",
    "Pricing",
    "ProductItem",
    "Profile",
    "ReactionMessage",
    "ReactionObject",
    "Referral",
    "RevokeMessage",
    "RevokeObject",
    "SharedContact",
    "Status",
    "StatusConversation",
    "StickerMessage",
    "SystemMessage",
    "SystemObject",
    "TextBody",
    "TextMessage",
    "TYPE_ALIASES",
    "Unreadable",
    "UnsupportedMessage",
    "Value",
    "VideoMessage",
    "WebhookError",
    "WebhookPayload",
]
