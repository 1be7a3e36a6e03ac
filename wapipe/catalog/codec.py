"""Products as stored: one JSON document per row, and the analysed text the lexical index holds."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from wapipe.catalog.model import Money, Product
from wapipe.catalog.normalize import analysed


def _money(m: Money | None) -> list[str] | None:
    return None if m is None else [str(m.amount), m.currency]


def _unmoney(v: Any) -> Money | None:
    return None if not v else Money(Decimal(v[0]), v[1])


def dumps(p: Product) -> str:
    doc = {k: v for k, v in p.__dict__.items() if v not in ("", None, {})}
    doc["price"] = _money(p.price)
    if p.sale_price is not None:
        doc["sale_price"] = _money(p.sale_price)
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def loads(body: str) -> Product:
    doc = json.loads(body)
    doc["price"] = _unmoney(doc["price"])
    doc["sale_price"] = _unmoney(doc.get("sale_price"))
    return Product(**doc)


def index_fields(p: Product) -> tuple[str, str, str, str]:
    """(title, kind, attributes, body): weighted 10, 4, 2, 1 in the ranking."""
    kind = " ".join((p.product_type.replace(">", " "), p.brand))
    attrs = " ".join((p.color, p.gender, p.material, *p.attributes.values()))
    return analysed(p.title), analysed(kind), analysed(attrs), analysed(p.description)


def vocabulary(products: Iterable[Product]) -> Counter[str]:
    """Terms -> number of rows that carry them (for correcting misspelt question words)."""
    counts: Counter[str] = Counter()
    for p in products:
        counts.update(set(" ".join(index_fields(p)).split()))
    return counts
