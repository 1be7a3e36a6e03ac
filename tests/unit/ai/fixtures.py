"""A tenant, request builders and small fakes of the AI stage's own ports (`services/ai/ports.py`), shared by the
unit and integration tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.envelope import conversation_key, derive_id
from schemas.events import AnswerRequested, AnswerRequestedPayload, Recipient
from services.ai.cost import Reservation
from services.ai.prompt import Answer
from services.ai.providers import LLMRequest, LLMResult, ProviderError
from services.ai.tenant import FAQ, TenantAI

TENANT = TenantAI(
    tenant="100000000000001", name="Tienda Demo", system_prompt="Eres el asistente de Tienda Demo, en Medellín.",
    knowledge=("Sitio web: https://tiendademo.co. Teléfono de la tienda: +57 604 444 5566. "
               "Medios de pago: tarjeta, PSE y Nequi."),
    faqs=(FAQ("¿Cuál es el horario de atención?", "Abrimos de lunes a sábado de 9 a 7.", ("horario", "abren")),
          FAQ("¿Hacen envíos a todo el país?", "Sí, enviamos a toda Colombia en 2 a 5 días.", ("envio", "envios"))),
    knowledge_version="v3", model="gpt-4o-mini", daily_spend_cap_usd=1.0,
)


def request(text: str, *, user: str | None = None, message_id: str | None = None,
            not_before: datetime | None = None, tenant: TenantAI = TENANT) -> AnswerRequested:
    """What guardrails sends for a message the model should answer."""
    user = user or f"u{uuid.uuid4().hex[:10]}"
    mid = message_id or f"wamid.m{uuid.uuid4().hex[:10]}"
    return AnswerRequested(
        event_id=derive_id("ai-test", mid), tenant=tenant.tenant, conversation=conversation_key(tenant.tenant, user),
        correlation_id=mid, payload=AnswerRequestedPayload(message_id=mid, to=Recipient(wa_id=user), text=text,
                                                           not_before=not_before))


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


class ScriptedProvider:
    """A provider that plays back outcomes: an LLMResult text, or a ProviderError kind."""

    def __init__(self, name: str, script: list[str], delay: float = 0.0) -> None:
        self.name = name
        self.script = list(script)
        self.calls: list[LLMRequest] = []
        self.delay = delay

    async def complete(self, req: LLMRequest) -> LLMResult:
        self.calls.append(req)
        await asyncio.sleep(self.delay)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if step in ("timeout", "error_5xx", "error"):
            raise ProviderError(step, "scripted")  # type: ignore[arg-type]
        return LLMResult(text=step, model="gpt-4o-mini", input_tokens=100, output_tokens=20)

    async def close(self) -> None:
        pass


class Tenants:
    """TenantSource over one tenant."""

    def __init__(self, t: TenantAI) -> None:
        self.t = t

    def ai_settings(self, tenant: str) -> TenantAI | None:
        return self.t if tenant == self.t.tenant else None


class MemoryAnswerCache:
    """AnswerCachePort: keeps what the Redis cache keeps (the answer and its reason; a cached answer is never a
    handoff)."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[str, str]] = {}

    async def get(self, key: str) -> Answer | None:
        hit = self.answers.get(key)
        return Answer(hit[0], False, hit[1]) if hit else None

    async def put(self, key: str, answer: Answer) -> None:
        self.answers[key] = (answer.answer, answer.reason)


class MemorySpend:
    """SpendPort: today's spend per tenant, the reservations in flight and the running cost per conversation."""

    def __init__(self, spent: dict[str, float] | None = None) -> None:
        self.day = dict(spent or {})
        self.held: dict[str, Reservation] = {}
        self.conversations: dict[str, float] = {}

    async def spent_today(self, tenant: str) -> float:
        return self.day.get(tenant, 0.0)

    async def held_today(self, tenant: str) -> float:
        return sum(h.usd for h in self.held.values() if h.tenant == tenant)

    async def reserve(self, tenant: str, usd: float, cap_usd: float) -> Reservation | None:
        if self.day.get(tenant, 0.0) + await self.held_today(tenant) + usd > cap_usd:
            return None
        hold = Reservation(tenant, "today", f"r{len(self.held)}-{uuid.uuid4().hex[:8]}", usd)
        self.held[hold.id] = hold
        return hold

    async def settle(self, hold: Reservation, conversation: str, usd: float) -> tuple[float, float]:
        self.held.pop(hold.id, None)
        self.conversations[conversation] = self.conversations.get(conversation, 0.0) + usd
        self.day[hold.tenant] = self.day.get(hold.tenant, 0.0) + usd
        return self.conversations[conversation], self.day[hold.tenant]

    async def release(self, hold: Reservation) -> None:
        self.held.pop(hold.id, None)


@dataclass(frozen=True)
class Pending:
    message_id: str
    text: str


class MemoryCoalesce:
    """CoalescePort with the Redis buffer's bookkeeping and no waiting: `push` is what guardrails does, and
    `wait_quiet` returns at once with what is pending (the burst already ended), recording the `not_before` it
    was asked to wait for."""

    def __init__(self) -> None:
        self.pending: dict[str, list[Pending]] = {}
        self.covered: dict[str, dict[str, str]] = {}
        self.memos: dict[str, str] = {}
        self.waited: list[datetime | None] = []

    def push(self, conversation: str, message_id: str, text: str) -> None:
        self.pending.setdefault(conversation, []).append(Pending(message_id, text))

    async def memo(self, correlation_id: str) -> dict[str, Any] | None:
        raw = self.memos.get(correlation_id)
        return json.loads(raw) if raw else None

    async def covered_by(self, conversation: str, message_id: str) -> str | None:
        return self.covered.get(conversation, {}).get(message_id)

    async def wait_quiet(self, conversation: str, not_before: datetime | None) -> tuple[list[Pending], int]:
        self.waited.append(not_before)
        raw = self.pending.get(conversation, [])
        first: dict[str, Pending] = {}
        for p in raw:
            first.setdefault(p.message_id, p)  # guardrails retried: the same message pushed twice counts once
        return list(first.values()), len(raw)

    async def finish(self, conversation: str, read_count: int, covered: list[str], coverer: str,
                     correlation_id: str, memo: dict[str, Any]) -> None:
        self.memos[correlation_id] = json.dumps(memo, ensure_ascii=False)  # stored as JSON, as in Redis
        self.covered.setdefault(conversation, {}).update({m: coverer for m in covered})
        self.pending[conversation] = self.pending.get(conversation, [])[read_count:]
