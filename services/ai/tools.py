"""The tool box: which tools a tenant's model is offered, and running one call to a result the model reads.

Built in: `search_products` and `get_product` over the tenant's catalog (`CatalogPort`, the same search as
`wapipe catalog search`), and `handoff(reason)`, which ends the answer with a handoff. The tenant's HTTP tools
(`http_tools.py`) come after them. A call never raises: a timeout, an error, a refused address, an unknown tool
or malformed arguments become an error result the model sees. Results are cut to the tenant's token budget
(`tools.result_tokens`, about 4 characters a token) by dropping whole products from the end, so the model still
reads valid JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Protocol

from services.ai.http_tools import HttpTools, spec
from services.ai.tenant import TenantAI
from services.ai.toolspec import GET_PRODUCT, HANDOFF, SEARCH_PRODUCTS, ToolCall, ToolResult, ToolSpec

log = logging.getLogger(__name__)
CHARS_PER_TOKEN = 4
DEFAULT_LIMIT = 5
# What the model reads of a product: enough to answer, nothing it would have to guess around.
PRODUCT_FIELDS = ("id", "item_group_id", "title", "brand", "price", "sale_price", "availability", "size", "color",
                  "link", "image_link", "description")


class CatalogPort(Protocol):
    """The tenant's product catalog (`wapipe.catalog`): search best first, one product by id (or group id)."""

    async def search(self, tenant: str, query: str, limit: int) -> list[dict[str, Any]]: ...

    async def get_product(self, tenant: str, product_id: str) -> dict[str, Any] | None: ...


def compact(product: dict[str, Any], description_chars: int = 160) -> dict[str, Any]:
    """What the model reads of a catalog hit: prices with their currency, the variants in stock as
    "size / colour: quantity", the description cut short."""
    out = {k: product[k] for k in PRODUCT_FIELDS if product.get(k) not in (None, "", [])}
    currency = product.get("currency")
    for k in ("price", "sale_price"):
        if currency and isinstance(out.get(k), int | float):
            out[k] = f"{out[k]} {currency}"
    if isinstance(out.get("description"), str) and len(out["description"]) > description_chars:
        out["description"] = out["description"][:description_chars].rstrip() + "…"
    variants = [v for v in product.get("variants") or [] if isinstance(v, dict)]
    if variants:
        out["in_stock"] = [" / ".join(p for p in (str(v.get("size") or ""), str(v.get("color") or "")) if p)
                           + (f": {v['quantity']}" if v.get("quantity") is not None else "")
                           for v in variants if v.get("availability") in ("in stock", "preorder",
                                                                          "available for order")
                           and (v.get("quantity") is None or v["quantity"] > 0)][:12]
    return out


def fit(result: ToolResult, budget_tokens: int) -> ToolResult:
    """The result within `budget_tokens`: products dropped from the end of a `results` list, else text cut."""
    limit = budget_tokens * CHARS_PER_TOKEN
    if len(result.content) <= limit:
        return result
    try:
        doc = json.loads(result.content)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        items = list(doc["results"])
        while items:
            items.pop()
            text = json.dumps({**doc, "results": items, "truncated": True}, ensure_ascii=False)
            if len(text) <= limit:
                return ToolResult(text, len(items), result.outcome, result.handoff_reason)
    return ToolResult(result.content[: max(0, limit - 16)] + "…[truncated]", result.count, result.outcome,
                      result.handoff_reason)


class ToolBox:
    def __init__(self, catalog: CatalogPort | None, http: HttpTools | None, *, catalog_timeout_s: float = 3.0
                 ) -> None:
        self._catalog = catalog
        self._http = http
        self._catalog_timeout_s = catalog_timeout_s

    def specs(self, t: TenantAI) -> tuple[ToolSpec, ...]:
        if not t.tools.enabled:
            return ()
        builtin = (SEARCH_PRODUCTS, GET_PRODUCT) if t.tools.catalog and self._catalog is not None else ()
        http = tuple(spec(h) for h in t.tools.http) if self._http is not None else ()
        return (*builtin, HANDOFF, *http)

    async def run(self, t: TenantAI, call: ToolCall, timeout_s: float) -> ToolResult:
        if call.name not in {s.name for s in self.specs(t)}:
            return ToolResult.error("unknown_tool", f"there is no tool {call.name!r}")
        try:
            args = call.args()
        except ValueError:
            return ToolResult.error("bad_arguments", "the arguments are not a JSON object")
        try:
            if call.name == "handoff":
                reason = str(args.get("reason") or "").strip()[:200]
                return ToolResult(json.dumps({"handoff": True}), 1, handoff_reason=reason or "handoff")
            if call.name in ("search_products", "get_product"):
                async with asyncio.timeout(min(self._catalog_timeout_s, timeout_s)):
                    result = await self._catalog_call(t, call.name, args)
            else:
                assert self._http is not None  # specs() offers HTTP tools only with it
                tool = next(h for h in t.tools.http if h.name == call.name)
                result = await self._http.run(tool, t.tools, call, min(tool.timeout_s, timeout_s))
        except TimeoutError:
            result = ToolResult.error("timeout", "the tool did not answer in time")
        except (ValueError, TypeError, KeyError, OSError, RuntimeError) as e:
            log.warning("tool failed tenant=%s tool=%s error=%s", t.tenant, call.name, type(e).__name__)
            result = ToolResult.error("error", "the tool failed")
        return fit(result, t.tools.result_tokens)

    async def _catalog_call(self, t: TenantAI, name: str, args: dict[str, Any]) -> ToolResult:
        assert self._catalog is not None
        tenant = t.tenant  # catalogs are keyed by the tenant's phone_number_id
        if name == "get_product":
            pid = str(args.get("id") or "").strip()
            if not pid:
                return ToolResult.error("bad_arguments", "id is required")
            product = await self._catalog.get_product(tenant, pid)
            if product is None:
                return ToolResult(json.dumps({"found": False}), 0)
            return ToolResult(json.dumps({"product": compact(product, 600)}, ensure_ascii=False), 1)
        size, color = str(args.get("size") or "").strip(), str(args.get("color") or "").strip()
        # the catalog's search reads sizes and colours from the query itself ("talla M", "negro")
        query = " ".join(p for p in (str(args.get("query") or "").strip(), f"talla {size}" if size else "", color)
                         if p)
        if not query:
            return ToolResult.error("bad_arguments", "query is required")
        try:
            limit = max(1, min(10, int(args.get("limit") or DEFAULT_LIMIT)))
        except (TypeError, ValueError):
            limit = DEFAULT_LIMIT
        hits = await self._catalog.search(tenant, query, limit)
        results = [compact(h) for h in hits[:limit]]
        return ToolResult(json.dumps({"results": results}, ensure_ascii=False), len(results))
