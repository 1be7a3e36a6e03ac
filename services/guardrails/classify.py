"""Pure classification: a customer's text (and the tenant's knowledge) -> message_type, intent, route, rule.

Order of precedence, most specific first: empty/gibberish, the tenant's handoff triggers, complaints and
requests for a person, off-topic, product questions (size, colour, price, stock: the model, with the catalog's
tools, unless a fixed intent below matches too), the tenant's FAQs, the fixed business intents (hours, location,
address, shipping, payments), courtesies alone (greeting, farewell, thanks), and everything else is a business
question for the model.

Bounded (`budget.py`): the rules see at most 4,096 characters, tenant patterns are RE2 (linear in the text), and a
classification that evaluates too many patterns or takes too long stops with the model as its route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from services.guardrails import rules as R
from services.guardrails.budget import BUDGET_RULE, BudgetExceeded, ClassifyLimits, Meter
from services.guardrails.normalize import normalize
from wapipe.tenants import Tenant

log = logging.getLogger(__name__)

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


def _first(rules: tuple[R.Rule, ...], text: str, meter: Meter) -> str | None:
    for r in rules:
        meter.spend()
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


def _matches(patterns: tuple[Any, ...], text: str, meter: Meter) -> bool:
    """Does any of a tenant rule's RE2 regexes match? (google-re2 ships no type hints, hence Any.)"""
    for rx in patterns:
        meter.spend()
        if rx.search(text):
            return True
    return False


Out = Callable[..., Classification]


def classify(text: str | None, tenant: Tenant, limits: ClassifyLimits | None = None) -> Classification:
    """The decision for one text; at most `limits.max_text_chars` of it (raw and normalised) is looked at."""
    lim = limits or ClassifyLimits()
    norm = normalize((text or "")[:lim.max_text_chars], tenant.synonyms)[:lim.max_text_chars]

    def out(mt: MessageType, intent: str, route: str, rule: str, **kw: object) -> Classification:
        return Classification(mt, intent, route, rule, norm, **kw)  # type: ignore[arg-type]

    meter = Meter(lim)
    try:
        return _classify(norm, tenant, meter, out)
    except BudgetExceeded as exc:
        log.warning("classification budget exceeded for tenant %s after %d patterns on %d chars (%s); "
                    "routing to the model", tenant.name, meter.evaluated, len(norm), exc)
        return out("BUSINESS_CONSULT", "otro", "ai", BUDGET_RULE)


def _classify(norm: str, tenant: Tenant, meter: Meter, out: Out) -> Classification:
    if not norm.strip():
        return out("EMPTY_OR_GIBBERISH", "otro", "clarify", "empty")
    meter.spend()
    if is_gibberish(norm):
        return out("EMPTY_OR_GIBBERISH", "otro", "clarify", "gibberish")

    for trig in tenant.handoff_triggers:
        if _matches(trig.compiled, norm, meter):
            return out("BUSINESS_CONSULT", "otro", "handoff", f"trigger:{trig.id}", trigger=trig.id)
    if rule := _first(R.QUEJA, norm, meter):
        return out("BUSINESS_CONSULT", "queja", "handoff", rule)
    if rule := _first(R.HUMANO, norm, meter):
        return out("BUSINESS_CONSULT", "humano", "handoff", rule)
    if rule := _first(R.OFF_TOPIC, norm, meter):
        meter.spend()
        if not R.BUSINESS_WORDS.search(norm):
            return out("NON_BUSINESS", "otro", "refuse", rule)

    # a product question (size, colour, price, stock) is the catalog's: the model answers it with its tools,
    # unless it is really about shipping, payments, hours or the address (the fixed intents below)
    if product := _first(R.PRODUCT, norm, meter):
        if not any(_first(rules, norm, meter) for _, rules in FAQ_INTENTS):
            return out("BUSINESS_CONSULT", "otro", "ai", product)

    for faq in tenant.faqs:
        if _matches(faq.compiled, norm, meter):
            return out("BUSINESS_FAQ", "otro", "reply", f"faq:{faq.id}", faq_id=faq.id)

    matched = [(intent, rule) for intent, rules in FAQ_INTENTS if (rule := _first(rules, norm, meter))]
    for marker_intent, markers in R.CONSULT_MARKERS:
        if consult := _first(markers, norm, meter):
            return out("BUSINESS_CONSULT", matched[0][0] if matched else marker_intent, "ai", consult)
    if matched:
        intent, rule = matched[0]
        return out("BUSINESS_FAQ", intent, "reply", rule, also=tuple(i for i, _ in matched[1:]))

    meter.spend(7)  # the courtesy check: three searches and four substitutions
    if courtesy := _courtesy(norm):
        return out("BUSINESS_FAQ", courtesy, "reply", courtesy)
    return out("BUSINESS_CONSULT", "otro", "ai", "default:consulta")
