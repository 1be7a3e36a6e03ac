"""The payload of every event type, and the rule that keeps the direct channel and WhatsApp apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from schemas.envelope import API_USER_PREFIX, conversation_key, is_api_user
from schemas.events.values import (
    Channel,
    FlowReply,
    IdentityMove,
    Location,
    Media,
    MessageContext,
    MetaError,
    Order,
    Reaction,
    Recipient,
    SystemChange,
    _Model,
)
from schemas.understanding import MediaUnderstanding


class MessageReceivedPayload(_Model):
    channel: Channel = "whatsapp"
    message_id: str = Field(min_length=1, description="wamid (or the api channel's own id)")
    sender: Recipient
    profile_name: str | None = None
    display_phone_number: str | None = None
    timestamp: datetime
    message_type: str = Field(description="Meta's type: text, image, ..., or unsupported")
    text: str | None = Field(default=None, description="body, caption or the chosen button/row title")
    reply_id: str | None = Field(default=None, description="interactive button/list id or button payload")
    media: Media | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    context: MessageContext | None = None
    referral: dict[str, Any] | None = None
    original_message_id: str | None = Field(default=None, description="edit/revoke: the message it changes")
    flow: FlowReply | None = None
    order: Order | None = Field(default=None, description="an `order` message: the items of the customer's cart")
    system: SystemChange | None = None
    identity_move: IdentityMove | None = None
    raw: dict[str, Any] = Field(default_factory=dict, description="Meta's message object as received")
    understanding: MediaUnderstanding | None = Field(default=None, description="set by the media stage")


class StatusReceivedPayload(_Model):
    message_id: str = Field(min_length=1, description="wamid of the message the business sent")
    status: Literal["sent", "delivered", "read", "failed", "played", "deleted", "warning"]
    recipient: Recipient
    timestamp: datetime
    errors: list[MetaError] = Field(default_factory=list)
    pricing: dict[str, Any] | None = None
    conversation_id: str | None = None
    biz_opaque_callback_data: str | None = None


class AnswerRequestedPayload(_Model):
    channel: Channel = "whatsapp"
    message_id: str
    to: Recipient
    text: str
    message_type: str = "text"
    intent: str | None = None
    language: str = "es"
    not_before: datetime | None = Field(default=None, description="burst coalescing: answer no earlier")
    flow: FlowReply | None = Field(default=None, description="a Flow's answer: structured fields, not prose")
    replaces: str | None = Field(default=None, description="an edit: the message it replaces (whose turn, now "
                                 "with this text, is not shown to the model again as context)")
    reply_id: str | None = Field(default=None, description="a tap on an interactive list row or reply button: "
                                 "its id (`product:<group>`, `answer:si`); `text` is its title")
    order: Order | None = Field(default=None, description="an `order` message: the items of the customer's cart")
    referred_product: str | None = Field(default=None, description="the product_retailer_id of the product "
                                         "message the customer answered or asked about")


class TemplateRef(_Model):
    name: str = Field(min_length=1, max_length=512)
    language: str = "es"
    components: list[dict[str, Any]] = Field(default_factory=list)


MEDIA_REPLY_KINDS: frozenset[str] = frozenset({"image", "document", "audio", "video", "sticker"})


class OutboundMedia(_Model):
    """What a media reply sends, from exactly one source: a public `link` (checked by the sender's outbound guard,
    Meta fetches it), a `media_id` Meta already holds (uploaded), an `object_key` of the object store (the sender
    uploads those bytes, once per content hash), or `forward_media_id`, a customer's media id (the sender downloads
    and re-uploads it). Captions on image, video and document; a file name on documents (Meta's rules)."""

    link: str | None = Field(default=None, min_length=1, max_length=2048)
    media_id: str | None = Field(default=None, min_length=1, max_length=128)
    object_key: str | None = Field(default=None, min_length=3, max_length=512)
    forward_media_id: str | None = Field(default=None, min_length=1, max_length=128)
    mime_type: str | None = Field(default=None, description="of the bytes, when the source does not say")
    caption: str | None = Field(default=None, max_length=1024)
    filename: str | None = Field(default=None, min_length=1, max_length=240)

    @model_validator(mode="after")
    def _one_source(self) -> OutboundMedia:
        sources = [s for s in (self.link, self.media_id, self.object_key, self.forward_media_id) if s is not None]
        if len(sources) != 1:
            raise ValueError("media needs exactly one of link, media_id, object_key, forward_media_id")
        return self


class QuotedMessage(_Model):
    """`context`: the message a reply quotes (shown above it in WhatsApp)."""

    message_id: str = Field(min_length=1)


class ReplyRequestedPayload(_Model):
    reply_id: str = Field(min_length=1, description="deterministic: same input, same id; sent at most once")
    channel: Channel = "whatsapp"
    audience: Literal["customer", "internal"] = "customer"
    to: Recipient
    kind: Literal["text", "interactive", "template", "reaction", "read", "typing", "image", "document", "audio",
                  "video", "sticker", "location", "contacts"]
    text: str | None = None
    interactive: dict[str, Any] | None = None
    template: TemplateRef | None = None
    emoji: str | None = None
    media: OutboundMedia | None = Field(default=None, description="image, document, audio, video, sticker")
    location: Location | None = None
    contacts: list[dict[str, Any]] | None = Field(default=None, description="Meta's contact cards (name, phones, "
                                                  "emails, urls, addresses, org, birthday)")
    context: QuotedMessage | None = Field(default=None, description="quote this message (any kind; the first "
                                          "part of a split text)")
    in_reply_to: str | None = Field(default=None, description="the customer's wamid (read receipt, reaction)")
    origin: str = Field(default="guardrails", description="stage or person that produced the reply")
    route: str | None = None
    covers: list[str] = Field(default_factory=list, description="the customer messages this reply answers: "
                              "cancelled when every one of them was revoked or edited before it went out")


class HandoffRequestedPayload(_Model):
    channel: Channel = "whatsapp"
    message_id: str
    to: Recipient
    reason: str = Field(description="humano, queja, ai_cannot_help, trigger, operator, ...")
    text: str | None = None
    requested_by: str
    ttl_s: int = 12 * 3600


class ReplySentPayload(_Model):
    reply_id: str
    channel: Channel = "whatsapp"
    audience: Literal["customer", "internal"] = "customer"
    to: Recipient
    kind: str
    wamids: list[str] = Field(default_factory=list)
    parts: int = 1
    attempts: int = 1
    template_fallback: bool = False


class ReplyFailedPayload(_Model):
    reply_id: str
    channel: Channel = "whatsapp"
    audience: Literal["customer", "internal"] = "customer"
    to: Recipient
    kind: str
    error_code: int | None = None
    error_title: str | None = None
    error_message: str | None = None
    attempts: int = 1
    permanent: bool = True
    reason: str | None = Field(default=None, description="why nothing was sent when it was our decision, not "
                               "Meta's: opted_out (the customer opted out of business-initiated messages)")


class ConsentChangedPayload(_Model):
    """A customer's consent decision that arrives outside a message: Meta's `user_preferences` webhook (the
    customer stopped or resumed marketing messages in WhatsApp). Opt-out keywords in messages are decided by
    guardrails and never become this event."""

    user: Recipient
    status: Literal["opted_out", "opted_in"]
    source: str = Field(default="user_preferences", description="what reported it: user_preferences, ...")
    category: str | None = Field(default=None, description="Meta's category, e.g. marketing_messages")
    detail: str | None = Field(default=None, description="Meta's description of the change")
    timestamp: datetime = Field(description="when the customer made the choice (Meta's timestamp)")


class BusinessEchoReceivedPayload(_Model):
    """A message a person of the business sent from the WhatsApp Business app on the Cloud API number (Meta's
    `smb_message_echoes`, coexistence): the business's words, never the customer's."""

    message_id: str = Field(min_length=1, description="the echo's wamid")
    to: Recipient = Field(description="the customer it was sent to")
    business_number: str | None = Field(default=None, description="the echo's `from`: the business's number")
    timestamp: datetime
    message_type: str = Field(description="Meta's type: text, image, ..., edit, revoke, or unsupported")
    text: str | None = Field(default=None, description="body or caption")
    media: Media | None = None
    location: Location | None = None
    reaction: Reaction | None = None
    original_message_id: str | None = Field(default=None, description="edit/revoke: the message it changes")
    raw: dict[str, Any] = Field(default_factory=dict, description="Meta's echo object as received")


class ReplyCancelledPayload(_Model):
    reply_id: str
    channel: Channel = "whatsapp"
    audience: Literal["customer", "internal"] = "customer"
    to: Recipient
    kind: str
    reason: Literal["revoked", "edited"] = Field(description="the customer deleted or edited what it answered")
    message_ids: list[str] = Field(default_factory=list, description="the customer messages it answered")


TemplateField = Literal["message_template_status_update", "message_template_quality_update",
                        "message_template_components_update", "template_category_update"]
AccountField = Literal["phone_number_quality_update", "account_update"]
ACCOUNT_CONVERSATION_PREFIX = "account:"


def account_conversation(waba_id: str) -> str:
    """The `conversation` of an account-level event: no customer's, and no key `parse_conversation_key` accepts."""
    return f"{ACCOUNT_CONVERSATION_PREFIX}{waba_id}"


class TemplateStatusChangedPayload(_Model):
    """One of Meta's template webhooks, read: which template (name + language, as sends name it) and what changed.
    Fields a webhook does not carry are None; `raw` is the change's value as Meta sent it."""

    account: str = Field(min_length=1, description="WhatsApp Business Account id (the webhook's entry.id)")
    field: TemplateField
    template_id: str | None = None
    name: str = Field(min_length=1, max_length=512)
    language: str | None = None
    event: str | None = Field(default=None, description="status update: APPROVED, PAUSED, DISABLED, REJECTED, ...")
    reason: str | None = None
    category: str | None = Field(default=None, description="the template's category now, when the webhook says")
    previous_category: str | None = None
    correct_category: str | None = Field(default=None, description="the category Meta will move it to in 24 h")
    quality: str | None = Field(default=None, description="quality update: the new score (GREEN, YELLOW, RED)")
    previous_quality: str | None = None
    title: str | None = Field(default=None, description="status update's other_info.title (FIRST_PAUSE, UNPAUSE...)")
    description: str | None = None
    timestamp: datetime = Field(description="Meta's time of the webhook (entry.time), else its arrival")
    raw: dict[str, Any] = Field(default_factory=dict)


class AccountEventReceivedPayload(_Model):
    """`phone_number_quality_update` (a number's messaging limit or throughput) or `account_update` (the account
    restricted, banned, in violation, verified, ...)."""

    account: str = Field(min_length=1)
    field: AccountField
    event: str | None = None
    display_phone_number: str | None = Field(default=None, description="the business number concerned, if any")
    current_limit: str | None = None
    old_limit: str | None = None
    timestamp: datetime
    raw: dict[str, Any] = Field(default_factory=dict)


def check_namespace(tenant: str, conversation: str, channel: Channel, who: Recipient,
                    audience: str = "customer") -> None:
    """The direct channel and WhatsApp never share a conversation: a channel "api" event addresses an `api:<id>`
    user under that user's own conversation key; a WhatsApp event addresses an id without ':' and never sits under
    an api conversation key (a message to the shop's internal numbers may be about any conversation)."""
    if channel == "api":
        if audience != "customer" or not is_api_user(who.user):
            raise ValueError(f"a channel 'api' event must address an '{API_USER_PREFIX}<id>' customer")
        if conversation != conversation_key(tenant, who.user):
            raise ValueError("a channel 'api' event must carry its own conversation key")
        return
    if ":" in (who.wa_id or "") or ":" in (who.user_id or ""):
        raise ValueError("a WhatsApp id never holds ':'")
    if audience == "customer" and conversation.startswith(conversation_key(tenant, API_USER_PREFIX)):
        raise ValueError("a WhatsApp event cannot belong to a direct-channel conversation")
