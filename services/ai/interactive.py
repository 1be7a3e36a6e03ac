"""Choices as WhatsApp interactive messages, and a customer's tap as input the model understands.

When the model's answer rests on a search that found several products, the reply is a list message (one row a
product, at most 10; the row id `product:<item_group_id>`); when it ends by asking a yes/no question ("¿Quieres
que te la aparte?"), reply buttons Sí / No (ids `answer:si`, `answer:no`). The answer's text is the message
body either way. Every body is validated against Meta's shape (`schemas.meta.interactive.Interactive`): one that does
not validate is not sent, the text goes instead. A tenant turns this off with `tools.interactive: false`; the
`/api/chat` channel always gets text.

A tap comes back as an `interactive` message whose `reply_id` is the row's or button's id; `tap_text` frames it
for the model ("El cliente eligió de la lista: … (id …)") so "quiero este" after a list names the product.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from schemas.meta.interactive import (
    BUTTON_BODY_MAX,
    LIST_ROWS_MAX,
    ROW_DESCRIPTION_MAX,
    ROW_TITLE_MAX,
    Interactive,
)

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


def choices(answer: str, evidence: Sequence[str]) -> dict[str, Any] | None:
    """The interactive body for this answer, or None when plain text it is."""
    text = answer.strip()
    if not text or len(text) > BUTTON_BODY_MAX:  # the tighter of the two bodies: a list's is 4096
        return None
    products = products_found(evidence)
    if len(products) >= 2:
        return _valid({"type": "list", "body": {"text": text}, "action": {"button": LIST_BUTTON, "sections": [
            {"title": "Productos", "rows": [_row(p) for p in products[:LIST_ROWS_MAX]]}]}})
    if _YES_NO.search(text):
        return _valid({"type": "button", "body": {"text": text}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": ANSWER_ID + "si", "title": "Sí"}},
            {"type": "reply", "reply": {"id": ANSWER_ID + "no", "title": "No"}}]}})
    return None


def tap_text(text: str, reply_id: str | None) -> str:
    """A tap on one of our lists or buttons, framed for the model; any other message as it came."""
    if not reply_id:
        return text
    if reply_id.startswith(PRODUCT_ID):
        return f"(El cliente eligió de la lista el producto «{text}», id {reply_id.removeprefix(PRODUCT_ID)}.)"
    if reply_id.startswith(ANSWER_ID):
        return f"(El cliente respondió «{text}» a tu pregunta anterior.)"
    return text
