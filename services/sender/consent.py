"""Consent in the sender's plan, with no I/O: which messages a customer who opted out still gets.

Only answers to the customer: a free-form message inside the 24 h window that replies to one of their messages
(`in_reply_to`: guardrails' and the AI's answers, the opt-out confirmation itself, the handoff wording), or any
free-form message inside the window once the customer has written again after opting out (a person answering
them). Everything else is business-initiated and refused with the reason `opted_out`: templates, the window
fallback (ours or after Meta's 131047), notifications and proactive messages. Read receipts and typing indicators
on the customer's own messages still go; messages to the tenant's internal numbers are not the customer's.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import ReplyRequestedPayload

OPTED_OUT = "opted_out"
STEP_REFUSED = "sender:refused:opted_out"


@dataclass(frozen=True)
class OptedOut:
    """The customer opted out; `wrote_since`: their last message came after the opt-out."""

    wrote_since: bool = False


def applies(p: ReplyRequestedPayload) -> bool:
    """Whether the customer's consent matters for this request at all (the sender reads it only then)."""
    return p.channel == "whatsapp" and p.audience == "customer" and p.kind not in ("read", "typing")


def refusal(p: ReplyRequestedPayload, opted_out: OptedOut | None, window_open: bool | None) -> str | None:
    """A one-line reason when this request must not reach an opted-out customer, else None."""
    if opted_out is None or not applies(p):
        return None
    if p.kind == "template":
        return "the customer opted out: templates are business-initiated"
    if not window_open:
        return "the customer opted out: outside the 24 h window only a template could go, and none may"
    if not (p.in_reply_to or opted_out.wrote_since):
        return "the customer opted out: not an answer to a message of theirs"
    return None
