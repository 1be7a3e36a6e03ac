"""Fakes for the tool loop's tests: a model that plays back tool calls and answers, and a small catalog."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from services.ai.providers import LLMRequest, LLMResult
from services.ai.toolspec import ToolCall

PRODUCTS = [
    {"id": "CHQ-IMP-NEG-M", "item_group_id": "CHQ-IMP", "title": "Chaqueta impermeable Andes", "price": "189900 COP",
     "availability": "in stock", "size": ["S", "M", "L"], "color": ["negro"],
     "link": "https://calzadoymodala80.co/p/chaqueta-andes", "internal_cost": "90000 COP"},
    {"id": "AM90-BLA-40", "item_group_id": "AM90", "title": "Nike Air Max 90 blancos", "price": "549900 COP",
     "availability": "out of stock", "size": ["40"], "color": ["blanco"], "link": "https://calzadoymodala80.co/p/am90"},
]


def call(name: str, cid: str = "call_1", **args: Any) -> ToolCall:
    return ToolCall(cid, name, json.dumps(args, ensure_ascii=False))


class ToolModel:
    """A provider that answers each request with the next step: a tuple of tool calls, or the final text."""

    name = "openai"

    def __init__(self, *steps: tuple[ToolCall, ...] | str, on_call: Callable[[], None] | None = None) -> None:
        self.steps = list(steps)
        self.calls: list[LLMRequest] = []
        self.on_call = on_call

    async def complete(self, req: LLMRequest) -> LLMResult:
        self.calls.append(req)
        if self.on_call:
            self.on_call()
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, str):
            return LLMResult(step, "gpt-4o-mini", 100, 20)
        return LLMResult("", "gpt-4o-mini", 100, 20, tool_calls=step)

    async def close(self) -> None:
        pass


class MemoryCatalog:
    """CatalogPort over a list: a product matches when every query word is in its title (accents aside)."""

    def __init__(self, products: list[dict[str, Any]] | None = None, *, fail: bool = False, hang: bool = False) -> None:
        self.products = products if products is not None else PRODUCTS
        self.fail, self.hang = fail, hang
        self.queries: list[tuple[str, str, int]] = []

    async def search(self, tenant: str, query: str, limit: int) -> list[dict[str, Any]]:
        self.queries.append((tenant, query, limit))
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise OSError("catalog store unavailable")
        words = [w for w in query.lower().split() if w not in ("talla",) and len(w) > 1]
        return [p for p in self.products if any(w in p["title"].lower() for w in words)][:limit]

    async def get_product(self, tenant: str, product_id: str) -> dict[str, Any] | None:
        return next((p for p in self.products if product_id in (p["id"], p["item_group_id"])), None)
