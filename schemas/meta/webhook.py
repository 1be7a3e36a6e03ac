"""Meta's WhatsApp Cloud API webhook (Graph API v25.0), as pydantic v2 models.

Every model accepts unknown fields (Meta adds fields without notice) and keeps them in `model_extra`.
A message whose `type` we do not model (or whose typed object is missing) parses as `UnsupportedMessage`,
which keeps every field it arrived with, so the raw object is never lost and never fails the batch.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Metadata(_Open):
    display_phone_number: str | None = None
    phone_number_id: str


class Profile(_Open):
    name: str | None = None
    username: str | None = None


class Contact(_Open):
    """The customer behind a message: phone-based `wa_id` and/or the business-scoped user id (BSUID)."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None


class ErrorData(_Open):
    details: str | None = None


class WebhookError(_Open):
    code: int
    title: str | None = None
    message: str | None = None
    error_data: ErrorData | None = None
    href: str | None = None


class Context(_Open):
    """Set when the message quotes/replies to another one, was forwarded, or asks about a product."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool | None = None
    frequently_forwarded: bool | None = None
    referred_product: dict[str, Any] | None = None


class Referral(_Open):
    """Click-to-WhatsApp ad or post the customer came from."""

    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    ctwa_clid: str | None = None


class TextBody(_Open):
    body: str


class MediaObject(_Open):
    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None
    voice: bool | None = None
    animated: bool | None = None


class LocationObject(_Open):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class SharedContact(_Open):
    """A contact card the customer shared (name, phones, emails, ...); kept mostly as Meta sends it."""

    name: dict[str, Any] | None = None
    phones: list[dict[str, Any]] = Field(default_factory=list)
    emails: list[dict[str, Any]] = Field(default_factory=list)


class ButtonReply(_Open):
    id: str
    title: str | None = None


class ListReply(_Open):
    id: str
    title: str | None = None
    description: str | None = None


class NfmReply(_Open):
    """A WhatsApp Flow's answer: `response_json` is a JSON string."""

    name: str | None = None
    body: str | None = None
    response_json: str | None = None


class InteractiveObject(_Open):
    type: str
    button_reply: ButtonReply | None = None
    list_reply: ListReply | None = None
    nfm_reply: NfmReply | None = None


class ButtonObject(_Open):
    """A tap on a template's quick-reply button."""

    payload: str | None = None
    text: str | None = None


class ReactionObject(_Open):
    message_id: str
    emoji: str | None = None  # absent when the customer removed the reaction


class ProductItem(_Open):
    product_retailer_id: str
    quantity: int | None = None
    item_price: float | None = None
    currency: str | None = None


class OrderObject(_Open):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[ProductItem] = Field(default_factory=list)


class SystemObject(_Open):
    body: str | None = None
    type: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None
    user_id: str | None = None
    customer: str | None = None


class _MessageBase(_Open):
    """Fields every inbound message has; `from` and/or `from_user_id` (BSUID) identify the sender."""

    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str
    timestamp: str
    context: Context | None = None
    referral: Referral | None = None
    errors: list[WebhookError] = Field(default_factory=list)


class TextMessage(_MessageBase):
    type: Literal["text"]
    text: TextBody


class ImageMessage(_MessageBase):
    type: Literal["image"]
    image: MediaObject


class AudioMessage(_MessageBase):
    type: Literal["audio"]
    audio: MediaObject  # audio.voice is true for a voice note


class VideoMessage(_MessageBase):
    type: Literal["video"]
    video: MediaObject


class DocumentMessage(_MessageBase):
    type: Literal["document"]
    document: MediaObject


class StickerMessage(_MessageBase):
    type: Literal["sticker"]
    sticker: MediaObject


class LocationMessage(_MessageBase):
    type: Literal["location"]
    location: LocationObject


class ContactsMessage(_MessageBase):
    type: Literal["contacts"]
    contacts: list[SharedContact]


class InteractiveMessage(_MessageBase):
    type: Literal["interactive"]
    interactive: InteractiveObject


class ButtonMessage(_MessageBase):
    type: Literal["button"]
    button: ButtonObject


class ReactionMessage(_MessageBase):
    type: Literal["reaction"]
    reaction: ReactionObject


class OrderMessage(_MessageBase):
    type: Literal["order"]
    order: OrderObject


class SystemMessage(_MessageBase):
    type: Literal["system"]
    system: SystemObject


class UnsupportedMessage(_MessageBase):
    """Meta's own `unsupported` type, or any type we do not model yet; every field is kept."""

    type: str


# Message type -> the key its typed object lives under (the same name, for every type Meta documents).
MODELLED_TYPES: frozenset[str] = frozenset({
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button",
    "reaction", "order", "system",
})


def _message_tag(value: Any) -> str:
    """Known type with its object present -> that type; anything else -> unsupported (kept raw)."""
    if isinstance(value, dict):
        kind, has_body = value.get("type"), isinstance(value.get(value.get("type") or ""), dict | list)
    else:
        kind, has_body = getattr(value, "type", None), True
    return kind if kind in MODELLED_TYPES and has_body else "unsupported"


Message = Annotated[
    Annotated[TextMessage, Tag("text")]
    | Annotated[ImageMessage, Tag("image")]
    | Annotated[AudioMessage, Tag("audio")]
    | Annotated[VideoMessage, Tag("video")]
    | Annotated[DocumentMessage, Tag("document")]
    | Annotated[StickerMessage, Tag("sticker")]
    | Annotated[LocationMessage, Tag("location")]
    | Annotated[ContactsMessage, Tag("contacts")]
    | Annotated[InteractiveMessage, Tag("interactive")]
    | Annotated[ButtonMessage, Tag("button")]
    | Annotated[ReactionMessage, Tag("reaction")]
    | Annotated[OrderMessage, Tag("order")]
    | Annotated[SystemMessage, Tag("system")]
    | Annotated[UnsupportedMessage, Tag("unsupported")],
    Discriminator(_message_tag),
]


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
    timestamp: str
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    conversation: StatusConversation | None = None
    pricing: Pricing | None = None
    errors: list[WebhookError] = Field(default_factory=list)
    biz_opaque_callback_data: str | None = None


class Value(_Open):
    """`changes[].value`. Only the `messages` field carries metadata/messages/statuses; others are kept raw."""

    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[Message] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)
    errors: list[WebhookError] = Field(default_factory=list)


class Change(_Open):
    field: str
    value: Value


class Entry(_Open):
    id: str  # WhatsApp Business Account id
    changes: list[Change] = Field(default_factory=list)


class WebhookPayload(_Open):
    """The body Meta POSTs to the webhook."""

    object: Literal["whatsapp_business_account"]
    entry: list[Entry]

    def update_count(self) -> int:
        """Messages + statuses + errors in this delivery (Meta batches up to 1,000)."""
        return sum(
            len(c.value.messages) + len(c.value.statuses) + len(c.value.errors) for e in self.entry for c in e.changes
        )
