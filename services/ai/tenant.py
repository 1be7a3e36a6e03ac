"""What the AI stage needs to know about a tenant, behind a small port.

`TenantSource` is implemented over the shared tenant registry (`wapipe.tenants`) in `app.py`; tests use a dict.
`fallback_answer` is the deterministic answer when no model may or can answer: the best-matching FAQ, else the
tenant's fallback wording.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from services.ai.links import canonical_host, link_hosts
from wapipe.tenants.tools import ToolsSettings


@dataclass(frozen=True)
class FAQ:
    question: str
    answer: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class TenantAI:
    tenant: str
    name: str
    system_prompt: str
    knowledge: str = ""  # free text: business facts the model may use
    faqs: tuple[FAQ, ...] = ()
    knowledge_version: str = "1"
    model: str | None = None  # None: the provider's default
    max_output_tokens: int = 180
    temperature: float = 0.4
    timeout_s: float = 8.0
    daily_spend_cap_usd: float | None = None
    fallback_text: str = "Gracias por escribirnos. Un asesor te responderá en breve."
    handoff_text: str = "Te comunico con un asesor, en breve te responde."
    allowed_hosts: tuple[str, ...] = ()  # the tenant's `links.allowed_hosts`; empty: the hosts its knowledge names
    tools: ToolsSettings = ToolsSettings()

    def knowledge_text(self) -> str:
        faq = "\n".join(f"- P: {f.question}\n  R: {f.answer}" for f in self.faqs)
        return "\n\n".join(p for p in (self.knowledge.strip(), faq) if p)

    @cached_property
    def link_hosts(self) -> frozenset[str]:
        """Hosts (canonical) an answer may link to, with their subdomains: the explicit list, else every host named
        in the instructions and the knowledge the model is given."""
        if self.allowed_hosts:
            return frozenset(canonical_host(h) for h in self.allowed_hosts)
        return frozenset(link_hosts(f"{self.system_prompt}\n{self.knowledge_text()}"))


class TenantSource(Protocol):
    """Per-tenant AI settings; None for an unknown tenant."""

    def ai_settings(self, tenant: str) -> TenantAI | None: ...


def normalise(text: str) -> str:
    """Lower case, accents and punctuation removed, whitespace collapsed: '¿Horarios?' == 'horarios'."""
    t = unicodedata.normalize("NFKD", text.lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return " ".join(re.findall(r"[a-z0-9ñ]+", t))


_STOP = frozenset("a al de del el en la las lo los me mi que se su te tu un una y o por para con es hay the is".split())


def _words(text: str) -> set[str]:
    return {w for w in normalise(text).split() if w not in _STOP and len(w) > 2}


def fallback_answer(t: TenantAI, question: str) -> tuple[str, str]:
    """(text, source): the FAQ sharing most words with the question, else the tenant's fallback wording."""
    asked = _words(question)
    best, score = None, 0
    for f in t.faqs:
        s = len(asked & (_words(f.question) | {normalise(k) for k in f.keywords}))
        if s > score:
            best, score = f, s
    if best is not None:
        return best.answer, "faq"
    return t.fallback_text, "fallback_text"
