"""The values event payloads are made of: who a message is from or to, its media, place, order, flow reply,
WhatsApp's identity changes and Meta's errors."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["whatsapp", "api"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Recipient(_Model):
    """Who a message is for: the WhatsApp id (phone) and/or the business-scoped user id (BSUID)."""

    wa_id: str | None = None
    user_id: str | None = None

    @property
    def user(self) -> str:
        return self.user_id or self.wa_id or ""


class Media(_Model):
    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False


class Location(_Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class Reaction(_Model):
    message_id: str
    emoji: str | None = None


class MessageContext(_Model):
    """What the customer's message refers to (a quoted reply, a forwarded message, a product)."""

    message_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict[str, Any] | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class OrderItem(_Model):
    product_retailer_id: str = Field(min_length=1, max_length=100, description="the catalog's `id` of the item")
    quantity: int | None = None
    item_price: float | None = None
    currency: str | None = None


class Order(_Model):
    """A cart the customer sent from the business's catalog (Meta's `order` message), as structured input."""

    catalog_id: str | None = None
    text: str | None = None
    items: list[OrderItem] = Field(default_factory=list)


class FlowReply(_Model):
    """A WhatsApp Flow's answer (`interactive.nfm_reply`) as structured input: the fields the customer filled in."""

    name: str | None = Field(default=None, description="nfm_reply.name (`flow`, `address_message`, ...)")
    flow_token: str | None = Field(default=None, description="the token the business sent the flow with")
    body: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict, description="response_json without flow_token")

    def as_text(self) -> str:
        """The fields one per line (`talla: 40`), for people and prompts; nested values as compact JSON."""
        def value(v: Any) -> str:
            return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":"))

        return "\n".join(f"{k}: {value(v)}" for k, v in self.fields.items())


class SystemChange(_Model):
    """A `system` message: WhatsApp reports that the customer's identity changed; never the customer's words."""

    type: str = Field(description="user_changed_number, user_changed_user_id, customer_identity_changed, ...")
    body: str | None = None
    previous: Recipient = Field(default_factory=Recipient, description="the ids being replaced")
    current: Recipient = Field(default_factory=Recipient, description="the ids replacing them")


class IdentityMove(_Model):
    """Set by ingress: this customer's conversation state lives under `from_conversation` and moves to this
    event's conversation before the message is handled (an identity change, or two keys found to be one)."""

    from_conversation: str = Field(min_length=3, max_length=200)
    reason: str = Field(description="the system message type, or `merge`")


class MetaError(_Model):
    code: int
    title: str | None = None
    message: str | None = None
    details: str | None = None
