"""The messages of Meta's webhook, one model per `type`, and how each part of a payload is read on its own.

A message whose `type` we do not model (or whose typed object is missing) parses as `UnsupportedMessage`, which
keeps every field it arrived with. A part (entry, change, message, status) that does not fit its model becomes an
`Unreadable` holding it exactly as it was parsed, with why it was refused (`_each`), and dumps back as it came
(`_PART`). `schemas.meta.webhook` re-exports every name.
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
    ButtonObject,
    Context,
    DigitId,
    EditObject,
    EpochSeconds,
    InteractiveObject,
    LocationObject,
    MediaObject,
    OrderObject,
    ReactionObject,
    Referral,
    RevokeObject,
    SharedContact,
    SystemObject,
    TextBody,
    WebhookError,
    _Open,
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
