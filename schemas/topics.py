"""The topic registry as code: names, partitions, keys, retention, writers and readers.

`wapipe topics create`, the k8s KafkaTopics, the AsyncAPI document and the services all read this list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 3600 * 1000
DLQ_RETENTION_MS = 30 * DAY_MS


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    key: str
    retention_ms: int
    writers: tuple[str, ...]
    readers: tuple[str, ...]
    event_types: tuple[str, ...]
    description: str
    config: dict[str, str] = field(default_factory=dict)

    @property
    def dlq(self) -> str:
        return dlq_name(self.name)

    @property
    def dlq_config(self) -> dict[str, str]:
        """The DLQ's topic config: its own retention, and the record size limit of the topic it serves (a
        dead-lettered record is as large as the original)."""
        kept = {k: v for k, v in self.config.items() if k == MAX_MESSAGE_BYTES}
        return {"retention.ms": str(DLQ_RETENTION_MS), **kept}


CONVERSATION_KEY = "{phone_number_id}:{user}"
ACCOUNT_KEY = "{waba_id}"
RAW_KEY = "{phone_number_id}, else the entry id"
MAX_MESSAGE_BYTES = "max.message.bytes"
# A webhook body may be 3 MiB (ingress refuses larger ones): the raw log and its DLQ take records of that size.
RAW_RECORD_MAX_BYTES = 4 * 1024 * 1024

INBOUND = "wa.inbound.v1"
INBOUND_UNDERSTOOD = "wa.inbound.understood.v1"
STATUS = "wa.status.v1"
AI_REQUESTS = "wa.ai.requests.v1"
OUTBOUND = "wa.outbound.v1"
HANDOFF = "wa.handoff.v1"
DELIVERY = "wa.delivery.v1"
ACCOUNT = "wa.account.v1"
RAW_WEBHOOKS = "wa.webhooks.raw.v1"

TOPICS: tuple[Topic, ...] = (
    # The media stage turns it into wa.inbound.understood.v1, which guardrails reads; the notifier reads it with its
    # own group: it relays what customers write while a person has the conversation. ConsentChanged rides with the
    # messages (not on a topic of its own) so it is ordered with them.
    Topic(INBOUND, 12, CONVERSATION_KEY, 7 * DAY_MS, ("ingress",), ("notifier", "media", "console"),
          ("MessageReceived", "ConsentChanged", "BusinessEchoReceived"),
          "Every customer message Meta delivered, normalised, the customer's consent changes Meta reported, and "
          "what the business wrote from the WhatsApp Business app on the same number (echoes)."),
    # Same keys and partitions as wa.inbound.v1: a text after a voice note waits for it on its key in the media stage.
    Topic(INBOUND_UNDERSTOOD, 12, CONVERSATION_KEY, 7 * DAY_MS, ("media",), ("guardrails", "console"),
          ("MessageReceived", "ConsentChanged", "BusinessEchoReceived"),
          "Every customer message in order, media ones with what their bytes say (transcript, text, receipt); "
          "consent changes and the business's echoes passed through."),
    Topic(STATUS, 12, CONVERSATION_KEY, 7 * DAY_MS, ("ingress",), ("sender", "notifier"), ("StatusReceived",),
          "Delivery statuses of the messages the business sent."),
    Topic(AI_REQUESTS, 12, CONVERSATION_KEY, 3 * DAY_MS, ("guardrails",), ("ai",), ("AnswerRequested",),
          "Messages that need a model's answer."),
    Topic(OUTBOUND, 12, CONVERSATION_KEY, 7 * DAY_MS, ("guardrails", "ai", "notifier"), ("sender",),
          ("ReplyRequested",), "Everything the business is about to send through the Graph API."),
    Topic(HANDOFF, 12, CONVERSATION_KEY, 30 * DAY_MS, ("guardrails", "ai"), ("notifier", "console"),
          ("HandoffRequested",),
          "Conversations handed to a person."),
    Topic(DELIVERY, 12, CONVERSATION_KEY, 7 * DAY_MS, ("sender",), ("notifier", "console"),
          ("ReplySent", "ReplyFailed", "ReplyCancelled"),
          "Outcome of each reply: sent, failed at the Graph API, or cancelled (the customer deleted or edited "
          "what it answered)."),
    # Meta's account-level webhook fields (templates, quality, account state): `tenant` is the WhatsApp Business
    # Account id (entry.id), which tenant files name with `waba_id`.
    Topic(ACCOUNT, 3, ACCOUNT_KEY, 30 * DAY_MS, ("ingress",), ("sender", "notifier"),
          ("TemplateStatusChanged", "AccountEventReceived"),
          "Template status, quality and category changes, number quality and account updates, per WhatsApp "
          "Business Account."),
    # Not events: the signed bodies exactly as Meta POSTed them, read by `wapipe reprocess` (no consumer group).
    Topic(RAW_WEBHOOKS, 6, RAW_KEY, 7 * DAY_MS, ("ingress",), (), (),
          "Every accepted webhook body, byte for byte (headers received-at, signature-verified); its DLQ holds the "
          "parts ingress could not read.", config={MAX_MESSAGE_BYTES: str(RAW_RECORD_MAX_BYTES)}),
)



def dlq_name(name: str) -> str:
    return f"{name}.dlq"


def topic(name: str) -> Topic:
    for t in TOPICS:
        if t.name == name:
            return t
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(t.name for t in TOPICS)}")


def read_by(service: str) -> tuple[str, ...]:
    """The topics `service` consumes, in registry order: what its workers subscribe to, together."""
    names = tuple(t.name for t in TOPICS if service in t.readers)
    if not names:
        raise KeyError(f"{service!r} reads no registry topic; readers: {', '.join(readers())}")
    return names


def readers() -> list[str]:
    """Every service that consumes a registry topic."""
    return sorted({r for t in TOPICS for r in t.readers})


def all_topic_names(prefix: str = "", with_dlq: bool = True) -> list[str]:
    """Every topic the pipeline uses, each DLQ included, under an optional prefix (tests, sandboxes)."""
    names = [t.name for t in TOPICS]
    if with_dlq:
        names += [t.dlq for t in TOPICS]
    return [prefix + n for n in names]
