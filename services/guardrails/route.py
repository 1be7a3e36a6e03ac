"""Pure routing: one message (text or not) and the tenant's knowledge -> a Decision with the text to send.

Used by the handler and by `wapipe classify`; no I/O, the clock is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.events import FlowReply, MessageReceivedPayload
from services.guardrails.answers import answer_for
from services.guardrails.budget import ClassifyLimits
from services.guardrails.classify import classify
from wapipe.tenants import FlowRule, NonTextRule, Tenant

TEXT_TYPES = {"text"}
_TYPE_FOR_ROUTE = {"reply": "BUSINESS_FAQ", "ai": "BUSINESS_CONSULT", "handoff": "BUSINESS_CONSULT",
                   "refuse": "NON_BUSINESS", "clarify": "EMPTY_OR_GIBBERISH", "ignore": "EMPTY_OR_GIBBERISH"}


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


def _wording(t: Tenant, route: str) -> str | None:
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
    return Decision(c.message_type, c.intent, c.route, c.rule, _wording(t, c.route), reason)


def _from_rule(rule: NonTextRule, name: str, t: Tenant, now: datetime) -> Decision:
    text = rule.text
    if text is None and rule.route == "reply":
        text = answer_for(t, rule.intent, now)
    if text is None:
        text = _wording(t, rule.route)
    reason = (rule.reason or rule.intent) if rule.route == "handoff" else None
    return Decision(_TYPE_FOR_ROUTE[rule.route], rule.intent, rule.route, name, text, reason)


def flow_rule(flow: FlowReply, t: Tenant) -> tuple[str, FlowRule]:
    """The tenant's rule for this Flow: by its flow_token, the token's part before the first ':', or its name;
    a Flow the tenant does not list goes to the model."""
    token = flow.flow_token or ""
    for name in (token, token.partition(":")[0], flow.name or ""):
        if name and name in t.flows:
            return name, t.flows[name]
    return "default", FlowRule()


def decide_flow(flow: FlowReply, t: Tenant) -> Decision:
    """A Flow's answer is structured input, never classified as text."""
    name, rule = flow_rule(flow, t)
    if rule.action == "acknowledge":
        return Decision("BUSINESS_FAQ", "agradecimiento", "reply", f"flow:{name}", rule.wording or t.wording.thanks)
    if rule.action == "handoff":
        return Decision("BUSINESS_CONSULT", "otro", "handoff", f"flow:{name}", t.wording.handoff, f"flow:{name}")
    return Decision("BUSINESS_CONSULT", "otro", "ai", f"flow:{name}", None)


def decide(p: MessageReceivedPayload, t: Tenant, now: datetime, limits: ClassifyLimits | None = None) -> Decision:
    """Flow answers follow the tenant's flows (never the classifier); interactive ids and non-text types follow
    the tenant's rules; text (and unmapped buttons) is classified, within `limits` (`budget.py`)."""
    if p.flow is not None:
        return decide_flow(p.flow, t)
    if p.reply_id and p.reply_id in t.interactive:
        return _from_rule(t.interactive[p.reply_id], f"interactive:{p.reply_id}", t, now)
    if p.message_type in TEXT_TYPES or (p.message_type in ("interactive", "button") and p.text):
        return decide_text(p.text, t, now, limits)
    rule = t.non_text.get(p.message_type)
    if rule is None:
        return Decision("EMPTY_OR_GIBBERISH", "otro", "clarify", f"non_text:{p.message_type}:default",
                        t.wording.clarify)
    return _from_rule(rule, f"non_text:{p.message_type}", t, now)
