"""The objects inside Meta's webhook messages (contacts, media, interactive replies, orders, ...), v25.0.

Every model accepts unknown fields: Meta adds fields without notice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


_LAST_SECOND = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def epoch_seconds(value: Any) -> Any:
    """Meta's timestamps are epoch seconds as a string ("1763740800"). The same number sent as a JSON integer (or
    an integral float) means the same instant and is read as the string; anything else (ISO dates, fractions,
    milliseconds, negative or out of range) is refused, since which instant it names is a guess."""
    if isinstance(value, bool):
        raise ValueError("a timestamp is epoch seconds, not a boolean")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > _LAST_SECOND:
        raise ValueError("a timestamp is epoch seconds (digits)")
    return value


def _digits_as_text(value: Any) -> Any:
    """An id Meta sends as a string of digits (phone numbers, phone_number_id, account id), sent as a JSON integer:
    the same digits."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else value


EpochSeconds = Annotated[str, BeforeValidator(epoch_seconds)]
DigitId = Annotated[str, BeforeValidator(_digits_as_text)]


class Metadata(_Open):
    display_phone_number: DigitId | None = None
    phone_number_id: DigitId


class Profile(_Open):
    name: str | None = None
    username: str | None = None


class Contact(_Open):
    """The customer behind a message: phone-based `wa_id` and/or the business-scoped user id (BSUID)."""

    profile: Profile | None = None
    wa_id: DigitId | None = None
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
    # A number sent as a string ("4.6951") reads as that number; a non-number, NaN or out of range does not.
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)
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
    """A change of the customer's identity, reported by WhatsApp itself (never written by the customer).

    `user_changed_number`: `wa_id` (`new_wa_id` before v12) is the new phone number; with business-scoped user
    ids, `user_id`/`parent_user_id` are the new ones and `previous_user_id`/`previous_parent_user_id` the replaced
    ones. `user_changed_user_id`: only the BSUID changed (`user_id`, `previous_user_id`; no phone number).
    `customer_identity_changed`: the customer's security key changed (`identity` hash, `customer` = wa_id); their
    ids stay the same.
    """

    body: str | None = None
    type: str | None = None
    wa_id: str | None = None
    new_wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    previous_user_id: str | None = None
    previous_parent_user_id: str | None = None
    customer: str | None = None
    identity: str | None = None


class EditObject(_Open):
    """An edit of a message the customer sent earlier: `message` is the new content as a message object
    (`{"type": "text", "text": {"body": ...}}`, or a media type with its new caption). Also read in the
    `message_edit` spelling, whose new text may sit in `text` and whose original id may be called `mid`."""

    original_message_id: str | None = None
    mid: str | None = None
    message: dict[str, Any] | None = None
    text: str | dict[str, Any] | None = None

    @property
    def original(self) -> str | None:
        return self.original_message_id or self.mid

    def new_text(self) -> str | None:
        if isinstance(self.text, str):
            return self.text
        if isinstance(self.text, dict) and isinstance(self.text.get("body"), str):
            return str(self.text["body"])
        msg = self.message or {}
        kind = msg.get("type")
        body = msg.get(kind) if isinstance(kind, str) else None
        if isinstance(body, dict):
            value = body.get("body") if kind == "text" else body.get("caption")
            return value if isinstance(value, str) else None
        return None


class RevokeObject(_Open):
    """The customer deleted ("deleted for everyone") a message they sent earlier."""

    original_message_id: str | None = None
