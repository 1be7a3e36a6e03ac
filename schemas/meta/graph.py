"""Graph API send requests (`POST /{version}/{phone_number_id}/messages`) with Meta's limits.

The sender builds these; the simulator validates incoming bodies with them, so both sides agree on what Meta
accepts: text <= 4096 chars, <= 3 reply buttons with titles <= 20, list rows <= 10 in total, and so on.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

TEXT_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
BUTTON_TITLE_MAX = 20
BUTTONS_MAX = 3
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
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


class ReplyButtonRef(_Model):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=BUTTON_TITLE_MAX)


class ReplyButton(_Model):
    type: Literal["reply"] = "reply"
    reply: ReplyButtonRef


class Row(_Model):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=ROW_TITLE_MAX)
    description: str | None = Field(default=None, max_length=ROW_DESCRIPTION_MAX)


class Section(_Model):
    title: str | None = Field(default=None, max_length=ROW_TITLE_MAX)
    rows: list[Row] = Field(min_length=1)


class Action(_Model):
    buttons: list[ReplyButton] | None = Field(default=None, min_length=1, max_length=BUTTONS_MAX)
    button: str | None = Field(default=None, min_length=1, max_length=BUTTON_TITLE_MAX)
    sections: list[Section] | None = Field(default=None, min_length=1, max_length=LIST_SECTIONS_MAX)


class InteractiveText(_Model):
    text: str = Field(min_length=1, max_length=INTERACTIVE_BODY_MAX)


class Interactive(_Model):
    model_config = ConfigDict(extra="allow")  # header/footer and newer interactive types pass through

    type: Literal["button", "list", "cta_url", "product", "product_list", "flow", "location_request_message"]
    body: InteractiveText | None = None
    footer: dict[str, Any] | None = None
    header: dict[str, Any] | None = None
    action: Action

    @model_validator(mode="after")
    def _shape(self) -> Interactive:
        if self.type == "button" and not self.action.buttons:
            raise ValueError("interactive button messages need 1 to 3 buttons")
        if self.type == "list":
            if not self.action.sections or not self.action.button:
                raise ValueError("interactive list messages need action.button and action.sections")
            rows = sum(len(s.rows) for s in self.action.sections)
            if rows > LIST_ROWS_MAX:
                raise ValueError(f"a list message has at most {LIST_ROWS_MAX} rows in total, got {rows}")
        if self.type in ("button", "list") and self.body is None:
            raise ValueError("interactive body is required")
        return self


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
    | ImageMessage | DocumentMessage | AudioMessage | VideoMessage | StickerMessage,
    Field(discriminator="type"),
]
SEND_ADAPTER: TypeAdapter[SendMessage] = TypeAdapter(SendMessage)

MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
FREE_FORM_TYPES = frozenset({"text", "interactive", "reaction"}) | MEDIA_TYPES


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
