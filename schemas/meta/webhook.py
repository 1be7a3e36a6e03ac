"""Meta's WhatsApp Cloud API webhook (Graph API v25.0), as pydantic v2 models.

Every model accepts unknown fields (Meta adds fields without notice) and keeps them in `model_extra`.
A message whose `type` we do not model (or whose typed object is missing) parses as `UnsupportedMessage`,
which keeps every field it arrived with, so the raw object is never lost and never fails the batch.

Each entry, change, message and status is read on its own: one that does not fit its model becomes an
`Unreadable` holding the part exactly as it was parsed from the body and why it was refused, and the rest of the
payload is read as usual. Only the envelope (`object`, `entry` as a list) can fail the whole payload.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    SerializationInfo,
    Tag,
    TypeAdapter,
    ValidationError,
)

from schemas.meta.objects import (
    ButtonObject as ButtonObject,
)
from schemas.meta.objects import (
    ButtonReply as ButtonReply,
)
from schemas.meta.objects import (
    Contact as Contact,
)
from schemas.meta.objects import (
    Context as Context,
)
from schemas.meta.objects import (
    DigitId as DigitId,
)
from schemas.meta.objects import (
    EditObject as EditObject,
)
from schemas.meta.objects import (
    EpochSeconds as EpochSeconds,
)
from schemas.meta.objects import (
    ErrorData as ErrorData,
)
from schemas.meta.objects import (
    InteractiveObject as InteractiveObject,
)
from schemas.meta.objects import (
    ListReply as ListReply,
)
from schemas.meta.objects import (
    LocationObject as LocationObject,
)
from schemas.meta.objects import (
    MediaObject as MediaObject,
)
from schemas.meta.objects import (
    Metadata as Metadata,
)
from schemas.meta.objects import (
    NfmReply as NfmReply,
)
from schemas.meta.objects import (
    OrderObject as OrderObject,
)
from schemas.meta.objects import (
    ProductItem as ProductItem,
)
from schemas.meta.objects import (
    Profile as Profile,
)
from schemas.meta.objects import (
    ReactionObject as ReactionObject,
)
from schemas.meta.objects import (
    Referral as Referral,
)
from schemas.meta.objects import (
    RevokeObject as RevokeObject,
)
from schemas.meta.objects import (
    SharedContact as SharedContact,
)
from schemas.meta.objects import (
    SystemObject as SystemObject,
)
from schemas.meta.objects import (
    TextBody as TextBody,
)
from schemas.meta.objects import (
    WebhookError as WebhookError,
)
from schemas.meta.objects import (  # re-exported: this module is the webhook's public face
    _Open as _Open,
)


class Unreadable(BaseModel):
    """A part of the payload that does not fit Meta's shape: `raw` as parsed from the body, `error` says why (field
    paths and messages only, never the values: they may hold a customer's number or words)."""

    model_config = ConfigDict(frozen=True)

    raw: Any
    error: str


def explain(e: ValidationError) -> str:
    """A ValidationError as `loc: message; ...`, without the input values."""
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '(part)'}: {err['msg']}"
             for err in e.errors(include_url=False, include_input=False, include_context=False)]
    return "; ".join(parts)[:1000]


def _each(model: Any) -> PlainValidator:
    """Validate one list element with `model`; an element that does not fit becomes `Unreadable`."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)

    def read(value: Any) -> Any:
        if isinstance(value, Unreadable):
            return value
        try:
            return adapter.validate_python(value)
        except ValidationError as e:
            return Unreadable(raw=value, error=explain(e))

    return PlainValidator(read)


def _as_read(value: Any, info: SerializationInfo) -> Any:
    """A part dumps as it was read: an `Unreadable` as its raw value, a model with the caller's options."""
    if isinstance(value, Unreadable):
        return value.raw
    return value.model_dump(mode=info.mode, by_alias=bool(info.by_alias), exclude_unset=info.exclude_unset,
                            exclude_none=info.exclude_none)


_PART = PlainSerializer(_as_read, when_used="always")


class _MessageBase(_Open):
    """Fields every inbound message has; `from` and/or `from_user_id` (BSUID) identify the sender."""

    from_: DigitId | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    id: str
    timestamp: EpochSeconds
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


class EditMessage(_MessageBase):
    """The customer edited an earlier message (Meta's `edit`; the `message_edit` spelling is read too)."""

    type: Literal["edit", "message_edit"]
    edit: EditObject | None = None
    message_edit: EditObject | None = None

    @property
    def change(self) -> EditObject:
        return self.edit or self.message_edit or EditObject()


class RevokeMessage(_MessageBase):
    type: Literal["revoke"]
    revoke: RevokeObject


class UnsupportedMessage(_MessageBase):
    """Meta's own `unsupported` type, or any type we do not model yet; every field is kept."""

    type: str


# Message type -> the key its typed object lives under (the same name, for every type Meta documents).
MODELLED_TYPES: frozenset[str] = frozenset({
    "text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "button",
    "reaction", "order", "system", "edit", "revoke",
})
# Other spellings of a modelled type, and the type they are read as.
TYPE_ALIASES: dict[str, str] = {"message_edit": "edit"}


def _message_tag(value: Any) -> str:
    """Known type with its object present -> that type; anything else -> unsupported (kept raw)."""
    if isinstance(value, dict):
        kind = value.get("type")
        if not isinstance(kind, str):  # a list or a number as "type" is off-spec: keep the message raw
            return "unsupported"
        has_body = isinstance(value.get(kind), dict | list)
    else:
        kind, has_body = getattr(value, "type", None), True
    kind = TYPE_ALIASES.get(kind, kind) if isinstance(kind, str) else kind
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
    | Annotated[EditMessage, Tag("edit")]
    | Annotated[RevokeMessage, Tag("revoke")]
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
