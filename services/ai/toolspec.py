"""The vocabulary of native tool calling, shared by the providers, the tool box and the loop.

A `ToolSpec` is what the model is offered (name, description, JSON schema of the arguments); a `ToolCall` is what
it asked for (the provider's call id, the name, the arguments as JSON text); a `ToolResult` is what it gets back.
A failing tool is a result too (`ok=False`, its content says why): the model sees the error, the answer goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str = "{}"  # JSON text, as the model wrote it (it may be malformed)

    def args(self) -> dict[str, Any]:
        """The arguments as an object; ValueError when they are not a JSON object."""
        doc = json.loads(self.arguments or "{}")
        if not isinstance(doc, dict):
            raise ValueError("tool arguments must be a JSON object")
        return doc


@dataclass(frozen=True)
class ToolResult:
    content: str  # what the model reads (JSON text)
    count: int = 0  # results it holds (products found, 1 for a single record, 0 for none or an error)
    outcome: str = "ok"  # ok, error, timeout, refused, unknown_tool, bad_arguments
    handoff_reason: str | None = None  # set by the handoff tool: the answer ends with a handoff

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @classmethod
    def error(cls, outcome: str, message: str) -> ToolResult:
        return cls(json.dumps({"error": message}, ensure_ascii=False), 0, outcome)


SEARCH_PRODUCTS = ToolSpec(
    "search_products",
    "Busca productos del catálogo de la tienda. Úsala para toda pregunta sobre productos, tallas, colores, precios "
    "o disponibilidad. Devuelve los productos más relevantes con precio, tallas, colores, disponibilidad y enlace.",
    {"type": "object", "properties": {
        "query": {"type": "string", "description": "lo que busca el cliente, en sus palabras (producto, marca...)"},
        "size": {"type": "string", "description": "talla pedida, si la dijo (40, M, 2XL)"},
        "color": {"type": "string", "description": "color pedido, si lo dijo"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10, "description": "cuántos productos (5 si no)"}},
     "required": ["query"]})
GET_PRODUCT = ToolSpec(
    "get_product",
    "Los datos completos de un producto del catálogo por su id (el `id` o `item_group_id` de search_products).",
    {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]})
HANDOFF = ToolSpec(
    "handoff",
    "Pasa la conversación a una persona del equipo cuando no puedes ayudar con la información disponible o el "
    "cliente lo pide.",
    {"type": "object", "properties": {"reason": {"type": "string", "description": "motivo corto"}},
     "required": ["reason"]})


class _NoTools:
    """A tool port that offers nothing (a stage wired without a catalog or HTTP tools)."""

    def specs(self, t: object) -> tuple[ToolSpec, ...]:
        return ()

    async def run(self, t: object, call: ToolCall, timeout_s: float) -> ToolResult:
        return ToolResult.error("unknown_tool", f"there is no tool {call.name!r}")


NO_TOOLS = _NoTools()
