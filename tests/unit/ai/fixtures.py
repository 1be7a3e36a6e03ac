"""A tenant and small fakes of the AI stage's own ports, shared by the unit tests."""

from __future__ import annotations

import asyncio

from services.ai.providers import LLMRequest, LLMResult, ProviderError
from services.ai.tenant import FAQ, TenantAI

TENANT = TenantAI(
    tenant="100000000000001", name="Tienda Demo", system_prompt="Eres el asistente de Tienda Demo, en Medellín.",
    knowledge="Sitio web: https://tiendademo.co. Teléfono de la tienda: +57 604 444 5566.",
    faqs=(FAQ("¿Cuál es el horario de atención?", "Abrimos de lunes a sábado de 9 a 7.", ("horario", "abren")),
          FAQ("¿Hacen envíos a todo el país?", "Sí, enviamos a toda Colombia en 2 a 5 días.", ("envio", "envios"))),
    knowledge_version="v3", model="gpt-4o-mini", daily_spend_cap_usd=1.0,
)


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
