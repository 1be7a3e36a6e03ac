"""Pure routing: one message (text or not) and the tenant's knowledge -> a Decision with the text to send.

Used by the handler and by `wapipe classify`; no I/O, the clock is a parameter.
"""

from __future__ import annotations

from datetime import datetime

from schemas.events import FlowReply, MessageReceivedPayload
from services.guardrails.answers import answer_for
from services.guardrails.budget import ClassifyLimits
from services.guardrails.decision import Decision, decide_text, wording_for
from services.guardrails.media import decide_media, is_media
from wapipe.tenants import FlowRule, NonTextRule, Tenant

__all__ = ["Decision", "decide", "decide_flow", "decide_text", "flow_rule"]

TEXT_TYPES = {"text"}
_TYPE_FOR_ROUTE = {"reply": "BUSINESS_FAQ", "ai": "BUSINESS_CONSULT", "handoff": "BUSINESS_CONSULT",
                   "refuse": "NON_BUSINESS", "clarify": "EMPTY_OR_GIBBERISH", "ignore": "EMPTY_OR_GIBBERISH"}


def _from_rule(rule: NonTextRule, name: str, t: Tenant, now: datetime) -> Decision:
    text = rule.text
    if text is None and rule.route == "reply":
        text = answer_for(t, rule.intent, now)
    if text is None:
        text = wording_for(t, rule.route)
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
    """Flow answers follow the tenant's flows (never the classifier); interactive ids follow the tenant's rules;
    media follows the tenant's `media` policy (`media.py`), else like other non-text types its `non_text` rule;
    text (and unmapped buttons) is classified, within `limits` (`budget.py`)."""
    if p.flow is not None:
        return decide_flow(p.flow, t)
    if p.reply_id and p.reply_id in t.interactive:
        return _from_rule(t.interactive[p.reply_id], f"interactive:{p.reply_id}", t, now)
    if p.message_type in TEXT_TYPES or (p.message_type in ("interactive", "button") and p.text):
        return decide_text(p.text, t, now, limits)
    if is_media(p) and (media := decide_media(p, t, now, limits)) is not None:
        return media
    rule = t.non_text.get(p.message_type)
    if rule is None and p.order is not None:  # a cart from the catalog: the AI answers it, naming the items
        return Decision("BUSINESS_CONSULT", "otro", "ai", "order", None)
    if rule is None:
        return Decision("EMPTY_OR_GIBBERISH", "otro", "clarify", f"non_text:{p.message_type}:default",
                        t.wording.clarify)
    return _from_rule(rule, f"non_text:{p.message_type}", t, now)
