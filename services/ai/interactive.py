"""Choices as WhatsApp interactive messages, and a customer's tap as input the model understands.

When the model's answer rests on a search that found products: one product is a single-product message
(`catalog_id` + `product_retailer_id`) when the tenant has a Meta catalog id (`tools.meta_catalog_id`), else an
image reply of the product's `image_link` with the answer as its caption; several products are a product list
(up to 30 in up to 10 sections) with a Meta catalog id, else a list message (one row a product, at most 10; the
row id `product:<item_group_id>`). An answer that ends by asking a yes/no question ("¿Quieres que te la
aparte?") gets reply buttons Sí / No (ids `answer:si`, `answer:no`); one that ends by offering two or three
options ("¿La prefieres en negro, blanco o azul?") gets a button per option (`answer:<option>`). The answer's
text is the message body (or caption) every time. Every body is validated against Meta's shape
(`schemas.meta.interactive.Interactive`): one that does not validate is not sent, the text goes instead. A
tenant turns this off with `tools.interactive: false`; the `/api/chat` channel always gets text.

A tap comes back as an `interactive` message whose `reply_id` is the row's or button's id; `tap_text` frames it
for the model ("El cliente eligió de la lista: … (id …)") so "quiero este" after a list names the product. A
message about one of our product messages (`context.referred_product`) and a cart sent from the catalog (an
`order` message) are framed the same way, with the products' ids, quantities and prices.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.events import Order
from schemas.meta.interactive import (
    BUTTON_BODY_MAX,
    BUTTON_TITLE_MAX,
    BUTTONS_MAX,
    LIST_ROWS_MAX,
    PRODUCTS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    Interactive,
)

CAPTION_MAX = 1024  # Meta's caption of an image

LIST_BUTTON = "Ver productos"
PRODUCT_ID = "product:"
ANSWER_ID = "answer:"
_YES_NO = re.compile(r"¿\s*(quieres|quiere|deseas|desea|te gustar[ií]a|le gustar[ií]a|te interesa|le interesa|"
                     r"te (lo|la|los|las) (aparto|reservo|envío|envio|separo)|confirmas|confirma|prefieres que|"
                     r"te muestro|te comunico|te paso)\b[^?¿]*\?\s*$", re.I)


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def products_found(evidence: Sequence[str]) -> list[dict[str, Any]]:
    """The products of the search results the model read, each group once, in the order found."""
    seen: dict[str, dict[str, Any]] = {}
    for text in evidence:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        for p in doc.get("results") or [] if isinstance(doc, dict) else []:
            if isinstance(p, dict) and p.get("title"):
                seen.setdefault(str(p.get("item_group_id") or p.get("id")), p)
    return list(seen.values())


def _row(p: dict[str, Any]) -> dict[str, str]:
    price = p.get("sale_price") or p.get("price")
    sizes = p.get("size")
    detail = " · ".join(s for s in (str(price) if price else "",
                                    "tallas " + ", ".join(map(str, sizes)) if isinstance(sizes, list) and sizes
                                    else "") if s)
    row = {"id": PRODUCT_ID + str(p.get("item_group_id") or p.get("id")), "title": _cut(str(p["title"]),
                                                                                       ROW_TITLE_MAX)}
    if detail:
        row["description"] = _cut(detail, ROW_DESCRIPTION_MAX)
    return row


def _valid(body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        Interactive.model_validate(body)
    except ValidationError:
        return None
    return body


@dataclass(frozen=True)
class Rich:
    """A reply richer than text: an interactive body, or an image by link with the answer as its caption."""

    interactive: dict[str, Any] | None = None
    image_link: str | None = None


def _retailer_id(p: dict[str, Any]) -> str:
    return str(p.get("id") or p.get("item_group_id"))


def _product_list(text: str, catalog_id: str, products: list[dict[str, Any]]) -> dict[str, Any] | None:
    items = [{"product_retailer_id": _retailer_id(p)} for p in products[:PRODUCTS_MAX]]
    return _valid({"type": "product_list", "header": {"type": "text", "text": "Productos"},
                   "body": {"text": text}, "action": {"catalog_id": catalog_id, "sections": [
                       {"title": "Productos", "product_items": items}]}})


_OPTIONS = re.compile(r"¿([^¿?]+)\?\s*$")
_SLUG = re.compile(r"[^a-z0-9ñ]+")


def options(text: str) -> list[str]:
    """The 2 or 3 options an answer's closing question offers ("¿En negro, blanco o azul?"), else []."""
    m = _OPTIONS.search(text)
    if not m:
        return []
    question = m.group(1).strip()
    if " o " not in question:
        return []
    head, last = question.rsplit(" o ", 1)
    parts = [c.strip() for c in head.split(",")] + [last.strip()]
    parts = [c for c in parts if c]
    if not 2 <= len(parts) <= BUTTONS_MAX or parts[-1].lower() in ("no", "ya no", "todavía no"):
        return []
    width = max(len(c.split()) for c in parts[1:])
    parts[0] = " ".join(parts[0].split()[-width:])  # "Prefieres negro" -> "negro", as wide as the others
    titles = [c[:1].upper() + c[1:] for c in parts]
    if any(len(c) > BUTTON_TITLE_MAX for c in titles) or len({c.lower() for c in titles}) != len(titles):
        return []
    return titles


def _buttons(text: str, titles: list[tuple[str, str]]) -> dict[str, Any] | None:
    return _valid({"type": "button", "body": {"text": text}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": ANSWER_ID + key, "title": title}} for key, title in titles]}})


def choices(answer: str, evidence: Sequence[str], catalog_id: str | None = None) -> Rich | None:
    """The richer reply for this answer, or None when plain text it is."""
    text = answer.strip()
    if not text or len(text) > BUTTON_BODY_MAX:  # the tighter of the two bodies: a list's is 4096
        return None
    products = products_found(evidence)
    if len(products) == 1:
        p = products[0]
        if catalog_id:
            body = _valid({"type": "product", "body": {"text": text}, "action": {
                "catalog_id": catalog_id, "product_retailer_id": _retailer_id(p)}})
            return Rich(interactive=body) if body else None
        link = p.get("image_link")
        if isinstance(link, str) and link.startswith("https://") and len(text) <= CAPTION_MAX:
            return Rich(image_link=link)
    if len(products) >= 2:
        body = _product_list(text, catalog_id, products) if catalog_id else \
            _valid({"type": "list", "body": {"text": text}, "action": {"button": LIST_BUTTON, "sections": [
                {"title": "Productos", "rows": [_row(p) for p in products[:LIST_ROWS_MAX]]}]}})
        return Rich(interactive=body) if body else None
    if titles := options(text):
        body = _buttons(text, [(_SLUG.sub("_", t.lower()).strip("_")[:60] or str(i), t)
                               for i, t in enumerate(titles)])
        return Rich(interactive=body) if body else None
    if _YES_NO.search(text):
        body = _buttons(text, [("si", "Sí"), ("no", "No")])
        return Rich(interactive=body) if body else None
    return None


def order_text(order: Order, titles: dict[str, str] | None = None) -> str:
    """A cart from the catalog, framed for the model with each item's name (when the catalog has it), id, quantity
    and price."""
    titles = titles or {}
    items = "; ".join(
        f"{i.quantity or 1} × "
        + (f"{titles[i.product_retailer_id]} (id {i.product_retailer_id})" if i.product_retailer_id in titles
           else f"id {i.product_retailer_id}")
        + (f" a {i.item_price:g} {i.currency or ''}".rstrip() if i.item_price is not None else "")
        for i in order.items)
    note = f" Nota del cliente: «{order.text}»." if order.text else ""
    return f"(El cliente envió un pedido desde el catálogo: {items or 'sin productos'}.{note})"


def tap_text(text: str, reply_id: str | None, order: Order | None = None,
             referred_product: str | None = None, titles: dict[str, str] | None = None) -> str:
    """A tap on one of our lists or buttons, a cart, or a message about one of our product messages, framed for
    the model; any other message as it came."""
    if order is not None:
        return order_text(order, titles)
    if referred_product and not reply_id:
        return f"(El cliente pregunta por el producto id {referred_product}:) {text}"
    if not reply_id:
        return text
    if reply_id.startswith(PRODUCT_ID):
        return f"(El cliente eligió de la lista el producto «{text}», id {reply_id.removeprefix(PRODUCT_ID)}.)"
    if reply_id.startswith(ANSWER_ID):
        return f"(El cliente respondió «{text}» a tu pregunta anterior.)"
    return text
