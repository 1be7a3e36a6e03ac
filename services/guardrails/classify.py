"""Pure classification: a customer's text (and the tenant's knowledge) -> message_type, intent, route, rule.

Order of precedence, most specific first: empty/gibberish, the tenant's handoff triggers, complaints and
requests for a person, off-topic, the tenant's FAQs, the fixed business intents (hours, location, address,
shipping, payments), courtesies alone (greeting, farewell, thanks), and everything else is a business question
for the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from services.guardrails import rules as R
from services.guardrails.normalize import normalize
from wapipe.tenants import Tenant

MessageType = Literal["EMPTY_OR_GIBBERISH", "NON_BUSINESS", "BUSINESS_FAQ", "BUSINESS_CONSULT"]
FAQ_INTENTS: tuple[tuple[str, tuple[R.Rule, ...]], ...] = (
    ("horarios", R.HORARIOS), ("ubicacion", R.UBICACION), ("direccion", R.DIRECCION), ("envios", R.ENVIOS),
    ("pagos", R.PAGOS),
)


@dataclass(frozen=True)
class Classification:
    message_type: MessageType
    intent: str
    route: str
    rule: str
    normalized: str
    faq_id: str | None = None
    trigger: str | None = None
    also: tuple[str, ...] = field(default=())  # further FAQ intents asked in the same message


def _first(rules: tuple[R.Rule, ...], text: str) -> str | None:
    for r in rules:
        if r.pattern.search(text):
            return r.name
    return None


def _is_gibberish_word(word: str) -> bool:
    if word.isdigit():
        return False
    if len(word) <= 1 or R.LAUGHTER.match(word) or R.KEYBOARD.search(word):
        return True
    vowels = sum(c in "aeiou" for c in word)
    return vowels == 0 or (len(word) >= 6 and vowels / len(word) < 0.2)


def is_gibberish(text: str) -> bool:
    words = text.split()
    return not words or all(_is_gibberish_word(w) for w in words)


def _courtesy(text: str) -> str | None:
    """The courtesy intent when the message is nothing but courtesies and filler words."""
    found = {name: bool(rx.search(text)) for name, rx in
             (("despedida", R.FAREWELL), ("agradecimiento", R.THANKS), ("saludo", R.GREETING))}
    if not any(found.values()):
        return None
    rest = text
    for rx in (R.FAREWELL, R.THANKS, R.GREETING, R.FILLER):
        rest = rx.sub(" ", rest)
    if rest.split():
        return None
    for name in ("despedida", "agradecimiento", "saludo"):
        if found[name]:
            return name
    return None


def classify(text: str | None, tenant: Tenant) -> Classification:
    norm = normalize(text, tenant.synonyms)

    def out(mt: MessageType, intent: str, route: str, rule: str, **kw: object) -> Classification:
        return Classification(mt, intent, route, rule, norm, **kw)  # type: ignore[arg-type]

    if not norm.strip():
        return out("EMPTY_OR_GIBBERISH", "otro", "clarify", "empty")
    if is_gibberish(norm):
        return out("EMPTY_OR_GIBBERISH", "otro", "clarify", "gibberish")

    for trig in tenant.handoff_triggers:
        if any(re.search(p, norm) for p in trig.patterns):
            return out("BUSINESS_CONSULT", "otro", "handoff", f"trigger:{trig.id}", trigger=trig.id)
    if rule := _first(R.QUEJA, norm):
        return out("BUSINESS_CONSULT", "queja", "handoff", rule)
    if rule := _first(R.HUMANO, norm):
        return out("BUSINESS_CONSULT", "humano", "handoff", rule)
    if (rule := _first(R.OFF_TOPIC, norm)) and not R.BUSINESS_WORDS.search(norm):
        return out("NON_BUSINESS", "otro", "refuse", rule)

    for faq in tenant.faqs:
        if any(re.search(p, norm) for p in faq.patterns):
            return out("BUSINESS_FAQ", "otro", "reply", f"faq:{faq.id}", faq_id=faq.id)

    matched = [(intent, rule) for intent, rules in FAQ_INTENTS if (rule := _first(rules, norm))]
    for marker_intent, markers in R.CONSULT_MARKERS:
        if consult := _first(markers, norm):
            return out("BUSINESS_CONSULT", matched[0][0] if matched else marker_intent, "ai", consult)
    if matched:
        intent, rule = matched[0]
        return out("BUSINESS_FAQ", intent, "reply", rule, also=tuple(i for i, _ in matched[1:]))

    if courtesy := _courtesy(norm):
        return out("BUSINESS_FAQ", courtesy, "reply", courtesy)
    return out("BUSINESS_CONSULT", "otro", "ai", "default:consulta")
