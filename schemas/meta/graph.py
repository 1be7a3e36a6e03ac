"""Graph API send requests (`POST /{version}/{phone_number_id}/messages`) with Meta's limits.

The sender builds these; the simulator validates incoming bodies with them, so both sides agree on what Meta
accepts: text <= 4096 chars, captions <= 1024, media by uploaded id or link, locations, contacts cards, and the
interactive kinds with their limits (`schemas.meta.interactive`). `context` quotes a message on any kind.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from schemas.meta.interactive import Interactive

TEXT_MAX = 4096
CALLBACK_DATA_MAX = 512
CAPTION_MAX = 1024
MEDIA_LINK_MAX = 2048
FILENAME_MAX = 240


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(_Model):
    body: str = Field(min_length=1, max_length=TEXT_MAX)
    preview_url: bool = False


class Context(_Model):
    message_id: str = Field(min_length=1)


class Language(_Model):
    code: str = Field(min_length=2, max_length=15)
    policy: Literal["deterministic"] | None = None


class Template(_Model):
    name: str = Field(min_length=1, max_length=512)
    language: Language
    components: list[dict[str, Any]] = Field(default_factory=list)


class ReactionBody(_Model):
    message_id: str = Field(min_length=1)
    emoji: str = ""  # empty removes a reaction


class _MediaSource(_Model):
    """Media sent by uploaded `id` (`POST /{phone_number_id}/media`) or by public `link`: exactly one of them."""

    id: str | None = Field(default=None, min_length=1)
    link: str | None = Field(default=None, min_length=1, max_length=MEDIA_LINK_MAX)

    @model_validator(mode="after")
    def _one_source(self) -> _MediaSource:
        if (self.id is None) == (self.link is None):
            raise ValueError("media needs exactly one of 'id' or 'link'")
        return self


class PlainMedia(_MediaSource):
    """Audio and stickers: Meta takes no caption for them."""


class CaptionedMedia(_MediaSource):
    caption: str | None = Field(default=None, max_length=CAPTION_MAX)


class DocumentMedia(CaptionedMedia):
    filename: str | None = Field(default=None, min_length=1, max_length=FILENAME_MAX)


class LocationBody(_Model):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = Field(default=None, min_length=1, max_length=1000)
    address: str | None = Field(default=None, min_length=1, max_length=1000)


class ContactName(_Model):
    formatted_name: str = Field(min_length=1)
    first_name: str | None = None
    last_name: str | None = None
    middle_name: str | None = None
    suffix: str | None = None
    prefix: str | None = None


class ContactPhone(_Model):
    phone: str | None = Field(default=None, min_length=1)
    type: str | None = None
    wa_id: str | None = None


class ContactEmail(_Model):
    email: str = Field(min_length=3)
    type: str | None = None


class ContactUrl(_Model):
    url: str = Field(min_length=1)
    type: str | None = None


class ContactOrg(_Model):
    company: str | None = None
    department: str | None = None
    title: str | None = None


class Contact(_Model):
    """One contact card of a `contacts` message (Meta's fields; `name.formatted_name` is the only required one)."""

    name: ContactName
    phones: list[ContactPhone] = Field(default_factory=list)
    emails: list[ContactEmail] = Field(default_factory=list)
    urls: list[ContactUrl] = Field(default_factory=list)
    addresses: list[dict[str, str]] = Field(default_factory=list)
    org: ContactOrg | None = None
    birthday: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class _Send(_Model):
    """Fields every message send shares. `recipient` addresses a business-scoped user id (BSUID)."""

    messaging_product: Literal["whatsapp"]
    recipient_type: Literal["individual"] = "individual"
    to: str | None = Field(default=None, min_length=1, max_length=64)
    recipient: str | None = Field(default=None, min_length=1, max_length=128)
    context: Context | None = None
    biz_opaque_callback_data: str | None = Field(default=None, max_length=CALLBACK_DATA_MAX)

    @model_validator(mode="after")
    def _addressed(self) -> _Send:
        if not (self.to or self.recipient):
            raise ValueError("either 'to' or 'recipient' is required")
        return self

    @property
    def address(self) -> str:
        return self.to or self.recipient or ""


class TextMessage(_Send):
    type: Literal["text"] = "text"
    text: Text


class InteractiveMessage(_Send):
    type: Literal["interactive"] = "interactive"
    interactive: Interactive


class TemplateMessage(_Send):
    type: Literal["template"] = "template"
    template: Template


class ReactionMessage(_Send):
    type: Literal["reaction"] = "reaction"
    reaction: ReactionBody


class ImageMessage(_Send):
    type: Literal["image"] = "image"
    image: CaptionedMedia


class DocumentMessage(_Send):
    type: Literal["document"] = "document"
    document: DocumentMedia


class AudioMessage(_Send):
    type: Literal["audio"] = "audio"
    audio: PlainMedia


class VideoMessage(_Send):
    type: Literal["video"] = "video"
    video: CaptionedMedia


class StickerMessage(_Send):
    type: Literal["sticker"] = "sticker"
    sticker: PlainMedia


class LocationMessage(_Send):
    type: Literal["location"] = "location"
    location: LocationBody


class ContactsMessage(_Send):
    type: Literal["contacts"] = "contacts"
    contacts: list[Contact] = Field(min_length=1, max_length=257)


class TypingIndicator(_Model):
    type: Literal["text"] = "text"


class MarkRead(_Model):
    """Read receipt for a customer's message, optionally showing the typing indicator (up to 25 s)."""

    messaging_product: Literal["whatsapp"]
    status: Literal["read"]
    message_id: str = Field(min_length=1)
    typing_indicator: TypingIndicator | None = None


SendMessage = Annotated[
    TextMessage | InteractiveMessage | TemplateMessage | ReactionMessage
    | ImageMessage | DocumentMessage | AudioMessage | VideoMessage | StickerMessage | LocationMessage
    | ContactsMessage,
    Field(discriminator="type"),
]
SEND_ADAPTER: TypeAdapter[SendMessage] = TypeAdapter(SendMessage)

MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
FREE_FORM_TYPES = frozenset({"text", "interactive", "reaction", "location", "contacts"}) | MEDIA_TYPES


def parse_request(body: dict[str, Any]) -> SendMessage | MarkRead:
    """Validate a messages-endpoint body; raises pydantic.ValidationError like Meta answers 100/131009."""
    if "status" in body:
        return MarkRead.model_validate(body)
    return SEND_ADAPTER.validate_python(body)


class SendContact(_Model):
    input: str
    wa_id: str


class SentId(_Model):
    id: str
    message_status: str | None = None


class SendResponse(_Model):
    messaging_product: Literal["whatsapp"] = "whatsapp"
    contacts: list[SendContact]
    messages: list[SentId]
