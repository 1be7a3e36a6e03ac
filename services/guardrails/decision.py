"""A routing decision, and the one for a text: the classifier's verdict and the tenant's answer. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.guardrails.answers import answer_for
from services.guardrails.budget import ClassifyLimits
from services.guardrails.classify import classify
from wapipe.tenants import Tenant


@dataclass(frozen=True)
class Decision:
    message_type: str
    intent: str
    route: str  # reply, refuse, clarify, ai, handoff, ignore
    rule: str
    text: str | None  # what the customer is told (None: the model answers, or nothing is sent)
    reason: str | None = None  # handoff reason

    def as_dict(self) -> dict[str, str | None]:
        return {"message_type": self.message_type, "intent": self.intent, "route": self.route, "rule": self.rule,
                "answer": self.text, "reason": self.reason}


def wording_for(t: Tenant, route: str) -> str | None:
    return {"refuse": t.wording.refusal, "clarify": t.wording.clarify, "handoff": t.wording.handoff}.get(route)


def decide_text(text: str | None, t: Tenant, now: datetime, limits: ClassifyLimits | None = None) -> Decision:
    c = classify(text, t, limits)
    if c.route == "reply":
        answers = [answer_for(t, c.intent, now, c.faq_id)] + [answer_for(t, i, now) for i in c.also]
        body = "\n\n".join(a for a in answers if a)
        if not body:  # an intent the tenant has no fixed answer for: let the model answer
            return Decision("BUSINESS_CONSULT", c.intent, "ai", c.rule, None)
        return Decision(c.message_type, c.intent, "reply", c.rule, body)
    reason = None
    if c.route == "handoff":
        reason = c.intent if c.intent in ("humano", "queja") else "trigger"
    return Decision(c.message_type, c.intent, c.route, c.rule, wording_for(t, c.route), reason)
