"""Output guard: what the model wrote must be safe to send to a customer, else the deterministic fallback.

Refused: empty answers, refusal-looking answers, secrets (keys, tokens, passwords), links to hosts the tenant's
knowledge does not mention, and phone numbers or e-mail addresses that are not the business's own (another
customer's data must never leak into a reply).
"""

from __future__ import annotations

import re

from services.ai.tenant import TenantAI

MAX_ANSWER_CHARS = 1000

_REFUSAL = re.compile(
    r"(as an ai|i'?m sorry,? but i can(no|')t|i can(no|')t (help|assist) with|como (modelo|inteligencia artificial|"
    r"ia)\b|no puedo (ayudarte|ayudar|responder|proporcionar)|lo siento,? (pero )?no puedo)", re.I)
_SECRET = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|EAA[A-Za-z0-9]{20,}|xox[bp]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*KEY"
    r"|\b(api[_ -]?key|password|contraseña|access[_ ]token|secret)\b\s*[:=])", re.I)
_URL = re.compile(r"\b(?:https?://|www\.)([^\s/?#<>\"')]+)", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def check(answer: str, t: TenantAI) -> str | None:
    """None when the answer may be sent; else the reason it may not."""
    text = answer.strip()
    if not text:
        return "empty"
    if len(text) > MAX_ANSWER_CHARS:
        return "too_long"
    if _REFUSAL.search(text):
        return "refusal"
    if _SECRET.search(text):
        return "secret"
    known = f"{t.system_prompt}\n{t.knowledge_text()}\n" + "\n".join(t.allowed_links)
    known_lower = known.lower()
    for host in _URL.findall(text):
        h = host.lower().rstrip(".,;:")
        if h.startswith("www."):
            h = h[4:]
        if h not in known_lower:
            return "unknown_link"
    for email in _EMAIL.findall(text):
        if email.lower() not in known_lower:
            return "foreign_contact"
    known_digits = _digits(known)
    for phone in _PHONE.findall(text):
        d = _digits(phone)
        if len(d) >= 7 and d not in known_digits:
            return "foreign_contact"
    return None
