"""Every event type of the topic table, as versioned pydantic v2 models.

An event is an `Envelope` whose `type` and `version` are fixed and whose `payload` has its own model.
Events are JSON on the wire; `decode_event` picks the class from `type`.

The package holds the values payloads are made of (`values`), the payloads (`payloads`) and, here, the events
themselves with their codec; every name is importable from `schemas.events`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, TypeAdapter, model_validator

from schemas.envelope import Envelope, derive_id
from schemas.events.payloads import (
    ACCOUNT_CONVERSATION_PREFIX,
    MEDIA_REPLY_KINDS,
    AccountEventReceivedPayload,
    AccountField,
    AnswerRequestedPayload,
    BusinessEchoReceivedPayload,
    ConsentChangedPayload,
    HandoffRequestedPayload,
    MessageReceivedPayload,
    OutboundMedia,
    QuotedMessage,
    ReplyCancelledPayload,
    ReplyFailedPayload,
    ReplyRequestedPayload,
    ReplySentPayload,
    StatusReceivedPayload,
    TemplateField,
    TemplateRef,
    TemplateStatusChangedPayload,
    account_conversation,
    check_namespace,
)
from schemas.events.values import (
    Channel,
    FlowReply,
    IdentityMove,
    Location,
    Media,
    MessageContext,
    MetaError,
    Order,
    OrderItem,
    Reaction,
    Recipient,
    SystemChange,
)


class MessageReceived(Envelope):
    type: Literal["MessageReceived"] = "MessageReceived"
    version: Literal[1] = 1
    payload: MessageReceivedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> MessageReceived:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.sender)
        return self


class StatusReceived(Envelope):
    type: Literal["StatusReceived"] = "StatusReceived"
    version: Literal[1] = 1
    payload: StatusReceivedPayload


class AnswerRequested(Envelope):
    type: Literal["AnswerRequested"] = "AnswerRequested"
    version: Literal[1] = 1
    payload: AnswerRequestedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> AnswerRequested:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to)
        return self


class ReplyRequested(Envelope):
    type: Literal["ReplyRequested"] = "ReplyRequested"
    version: Literal[1] = 1
    payload: ReplyRequestedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> ReplyRequested:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to, self.payload.audience)
        return self


class HandoffRequested(Envelope):
    type: Literal["HandoffRequested"] = "HandoffRequested"
    version: Literal[1] = 1
    payload: HandoffRequestedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> HandoffRequested:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to)
        return self


class ReplySent(Envelope):
    type: Literal["ReplySent"] = "ReplySent"
    version: Literal[1] = 1
    payload: ReplySentPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> ReplySent:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to, self.payload.audience)
        return self


class ReplyFailed(Envelope):
    type: Literal["ReplyFailed"] = "ReplyFailed"
    version: Literal[1] = 1
    payload: ReplyFailedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> ReplyFailed:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to, self.payload.audience)
        return self


class ReplyCancelled(Envelope):
    """A reply not sent because the customer deleted or edited the message it answered before it went out."""

    type: Literal["ReplyCancelled"] = "ReplyCancelled"
    version: Literal[1] = 1
    payload: ReplyCancelledPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> ReplyCancelled:
        check_namespace(self.tenant, self.conversation, self.payload.channel, self.payload.to, self.payload.audience)
        return self


class ConsentChanged(Envelope):
    type: Literal["ConsentChanged"] = "ConsentChanged"
    version: Literal[1] = 1
    payload: ConsentChangedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> ConsentChanged:
        check_namespace(self.tenant, self.conversation, "whatsapp", self.payload.user)  # Meta's: WhatsApp only
        return self


class BusinessEchoReceived(Envelope):
    """A person of the business wrote to the customer from the WhatsApp Business app (keyed by the customer)."""

    type: Literal["BusinessEchoReceived"] = "BusinessEchoReceived"
    version: Literal[1] = 1
    payload: BusinessEchoReceivedPayload

    @model_validator(mode="after")
    def _one_namespace(self) -> BusinessEchoReceived:
        check_namespace(self.tenant, self.conversation, "whatsapp", self.payload.to)  # Meta's: WhatsApp only
        return self


class TemplateStatusChanged(Envelope):
    """Meta changed a template's status, quality, components or category (tenant = the account id)."""

    type: Literal["TemplateStatusChanged"] = "TemplateStatusChanged"
    version: Literal[1] = 1
    payload: TemplateStatusChangedPayload


class AccountEventReceived(Envelope):
    """A business number's quality/limit changed, or the account was updated (tenant = the account id)."""

    type: Literal["AccountEventReceived"] = "AccountEventReceived"
    version: Literal[1] = 1
    payload: AccountEventReceivedPayload



Event = Annotated[
    MessageReceived
    | StatusReceived
    | AnswerRequested
    | ReplyRequested
    | HandoffRequested
    | ReplySent
    | ReplyFailed
    | ReplyCancelled
    | ConsentChanged
    | BusinessEchoReceived
    | TemplateStatusChanged
    | AccountEventReceived,
    Field(discriminator="type"),
]

EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        MessageReceived,
        StatusReceived,
        AnswerRequested,
        ReplyRequested,
        HandoffRequested,
        ReplySent,
        ReplyFailed,
        ReplyCancelled,
        ConsentChanged,
        BusinessEchoReceived,
        TemplateStatusChanged,
        AccountEventReceived,
    )
}

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def decode_event(data: bytes | str) -> Event:
    """Parse and validate one event from its JSON bytes; raises pydantic.ValidationError."""
    return _EVENT_ADAPTER.validate_json(data)


def encode_event(event: Envelope) -> bytes:
    return event.model_dump_json(by_alias=True).encode()


E = TypeVar("E", bound=Envelope)


def caused_by(cls: type[E], cause: Envelope, stage: str, payload: Any, index: int = 0) -> E:
    """An event caused by `cause`: same tenant/conversation/correlation, deterministic id, trace carried on."""
    return cls.model_validate({
        "event_id": derive_id(cause.event_id, stage, cls.model_fields["type"].default, index),
        "tenant": cause.tenant,
        "conversation": cause.conversation,
        "correlation_id": cause.correlation_id,
        "causation_id": cause.event_id,
        "trace": cause.child_trace(),
        "payload": payload,
    })


__all__ = [
    "Channel",
    "Recipient",
    "Media",
    "Location",
    "Reaction",
    "MessageContext",
    "OrderItem",
    "Order",
    "FlowReply",
    "SystemChange",
    "IdentityMove",
    "MetaError",
    "MessageReceivedPayload",
    "StatusReceivedPayload",
    "AnswerRequestedPayload",
    "TemplateRef",
    "MEDIA_REPLY_KINDS",
    "OutboundMedia",
    "QuotedMessage",
    "ReplyRequestedPayload",
    "HandoffRequestedPayload",
    "ReplySentPayload",
    "ReplyFailedPayload",
    "ConsentChangedPayload",
    "BusinessEchoReceivedPayload",
    "ReplyCancelledPayload",
    "TemplateField",
    "AccountField",
    "ACCOUNT_CONVERSATION_PREFIX",
    "account_conversation",
    "TemplateStatusChangedPayload",
    "AccountEventReceivedPayload",
    "check_namespace",
    "MessageReceived",
    "StatusReceived",
    "AnswerRequested",
    "ReplyRequested",
    "HandoffRequested",
    "ReplySent",
    "ReplyFailed",
    "ReplyCancelled",
    "ConsentChanged",
    "BusinessEchoReceived",
    "TemplateStatusChanged",
    "AccountEventReceived",
    "Event",
    "EVENT_TYPES",
    "decode_event",
    "encode_event",
    "caused_by",
]
