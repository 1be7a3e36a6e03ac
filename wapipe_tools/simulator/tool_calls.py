"""The simulated model's tool calling: it exercises the AI stage's real loop over the OpenAI wire format.

When it is offered tools and the customer's last message has had no tool results yet, a product question
(product words, sizes, colours, prices, stock) becomes a `search_products` call with the query, size and colour
taken from the question, an order question with a number becomes an `order_status` call, and a product picked
from a list (the AI stage frames the tap with the product's id) becomes a `get_product` call. Once the results
come back (`tool` messages after the last user message) it composes its answer from them: the titles, prices,
sizes and availability it read, or what the order lookup said; it never writes a price it did not read.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

PRODUCT_WORDS = (
    "zapatilla", "tenis", "guayo", "bota", "sandalia", "zapato", "chaqueta", "camiseta", "camisa", "jean", "pantalon",
    "buzo", "hoodie", "sudadera", "vestido", "falda", "short", "gorra", "medias", "chompa", "blusa", "polo", "air max",
    "jordan", "nike", "adidas", "puma", "impermeable", "referencia", "producto", "modelo", "mochila", "morral",
)
ASK_WORDS = ("tienen", "tienes", "hay", "manejan", "venden", "disponib", "stock", "existencia", "precio", "cuesta",
             "cuanto vale", "valor", "talla", "color", "busco", "quiero", "me interesa")
COLORS = ("negro", "negra", "blanco", "blanca", "azul", "rojo", "roja", "verde", "gris", "beige", "cafe", "rosado",
          "rosada", "amarillo", "amarilla", "morado", "naranja", "vinotinto")
_STOP = frozenset("a al de del el en la las lo los me mi que se su te tu un una y o por para con es hay tienen "
                  "tienes manejan venden cuanto cuesta cuestan vale valen precio precios talla color busco quiero "
                  "sirve tiene disponible "
                  "disponibles hola buenas buenos dias tardes noches porfa favor gracias si no como".split())
_SIZE = re.compile(r"\btalla\s+([0-9]{2}(?:[.,]5)?|x{0,3}[sml]|[2-4]xl|xxl)\b|\ben\s+(3[4-9]|4[0-6])\b", re.I)
_PICKED = re.compile(r"eligi[oó] de la lista el producto .*, id ([\w.-]+)\.\)")
_ORDER = re.compile(r"\b(pedido|orden|compra)\b\D{0,20}(\d{3,10})\b")


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def _names(tools: Any) -> set[str]:
    out = set()
    for t in tools or []:
        if isinstance(t, dict) and isinstance(t.get("function"), dict):
            out.add(str(t["function"].get("name")))
    return out


def search_arguments(question: str) -> dict[str, Any]:
    """The query (the product words of the question), and the size and colour when it names them."""
    p = plain(question)
    args: dict[str, Any] = {}
    if m := _SIZE.search(p):
        args["size"] = (m.group(1) or m.group(2)).upper()
    color = next((c for c in COLORS if re.search(rf"\b{c}s?\b", p)), None)
    if color:
        args["color"] = color
    words = [w for w in re.findall(r"[a-z0-9ñ]+", _SIZE.sub(" ", p)) if w not in _STOP and len(w) > 1
             and w != color and not (color and w == color + "s")]
    args["query"] = " ".join(words[:8]) or question.strip()[:80]
    return args


def product_like(question: str) -> bool:
    p = plain(question)
    return any(w in p for w in PRODUCT_WORDS) or (any(w in p for w in ASK_WORDS) and bool(_SIZE.search(p)))


def tool_call_for(question: str, tools: Any) -> dict[str, Any] | None:
    """The tool call the simulated model makes for this question, if it makes one."""
    names = _names(tools)
    p = plain(question)
    if "get_product" in names and (m := _PICKED.search(question)):  # a tap on a product list: that product
        return _call("get_product", {"id": m.group(1)})
    if "order_status" in names and (m := _ORDER.search(p)):
        return _call("order_status", {"order_id": m.group(2)})
    if "search_products" in names and product_like(question):
        return _call("search_products", search_arguments(question))
    return None


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": "call_" + uuid.uuid4().hex[:16], "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}


def results_since_last_user(messages: list[Any]) -> list[dict[str, Any]]:
    """The tool results that came after the customer's last message, with the name of the call each answers."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        if m.get("role") == "user":
            out = []
        for c in m.get("tool_calls") or []:
            if isinstance(c, dict):
                names[str(c.get("id"))] = str((c.get("function") or {}).get("name"))
        if m.get("role") == "tool":
            try:
                doc = json.loads(m.get("content") or "{}")
            except ValueError:
                doc = {"text": m.get("content")}
            out.append({"name": names.get(str(m.get("tool_call_id")), ""), "result": doc})
    return out


def _sizes(p: dict[str, Any]) -> str:
    sizes = p.get("sizes") or p.get("size")
    if isinstance(sizes, list):
        return ", ".join(str(s) for s in sizes)
    return str(sizes or "")


def _product_line(p: dict[str, Any]) -> str:
    price = p.get("sale_price") or p.get("price")
    line = f"{p.get('title', 'producto')}"
    if price not in (None, ""):
        line += f" a {price}"
    if sizes := _sizes(p):
        line += f" (tallas {sizes})"
    if p.get("availability") and p["availability"] != "in stock":
        line += f" [{p['availability']}]"
    return line


def compose(results: list[dict[str, Any]]) -> str:
    """The answer the simulated model writes from what its tools returned."""
    parts: list[str] = []
    for r in results:
        doc = r["result"] if isinstance(r["result"], dict) else {"results": r["result"]}
        if "error" in doc:
            parts.append("Ahora no pude consultar esa información; ¿te comunico con un asesor?")
        elif r["name"] == "order_status":
            if doc.get("found") is False:
                parts.append("No encontré ese pedido; revisa el número, por favor.")
            else:
                parts.append(f"Tu pedido {doc.get('order_id', '')}: {doc.get('status', 'en proceso')}"
                             + (f", llega {doc['eta']}" if doc.get("eta") else "") + ".")
        elif isinstance(doc.get("product"), dict):
            parts.append("Tenemos " + _product_line(doc["product"]) + ".")
        else:
            products = [p for p in doc.get("results") or [] if isinstance(p, dict)]
            if products:
                parts.append("Tenemos " + "; ".join(_product_line(p) for p in products[:3]) + ".")
            else:
                parts.append("No encontré ese producto en el catálogo; ¿quieres que te muestre algo parecido?")
    return " ".join(parts)
