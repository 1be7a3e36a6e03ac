"""Meta Commerce catalog feeds: CSV, TSV or JSON lines with Meta's column names, read row by row and validated.

Every bad row is reported (file, line, columns and reasons), not only the first; columns Meta does not define
are kept as the product's attributes. The reader streams, so a feed of any size is validated in constant memory.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from wapipe.catalog.model import AVAILABILITY, Money, Product

REQUIRED = ("id", "title", "availability", "price")
KNOWN = ("id", "title", "description", "availability", "condition", "price", "sale_price", "link", "image_link",
         "brand", "color", "size", "gender", "material", "item_group_id", "product_type",
         "quantity_to_sell_on_facebook")
CONDITIONS = ("new", "refurbished", "used", "used_like_new", "used_good", "used_fair")
GENDERS = ("female", "male", "unisex", "")
_PRICE = re.compile(r"^(\d{1,12}(?:\.\d{1,2})?) ([A-Z]{3})$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
FEED_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")
MAX_LEN = {"id": 100, "title": 200, "description": 9999, "item_group_id": 100, "brand": 100}


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    problems: tuple[tuple[str, str], ...]  # (column, reason)

    def __str__(self) -> str:
        detail = "; ".join(f"column {col}: {reason}" for col, reason in self.problems)
        return f"{self.file}:{self.line}: {detail}"


class FeedError(ValueError):
    """The file cannot be read as a feed at all (unknown format, no header, missing required columns)."""


def checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rows(path: Path, required: tuple[str, ...] = REQUIRED) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, raw fields) of every data row, keys lower-cased and stripped; a CSV/TSV header must name
    the `required` columns."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        first = f.readline()
        f.seek(0)
        if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or first.lstrip().startswith("{"):
            yield from _json_lines(f, path.name)
            return
        delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in first else ","
        reader = csv.reader(f, delimiter=delimiter)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise FeedError(f"{path.name}:1: the header has no {', '.join(missing)} column "
                            f"(Meta's column names: {', '.join(KNOWN)})")
        line = reader.line_num + 1
        for record in reader:
            if any(v.strip() for v in record):
                if len(record) != len(header):
                    yield line, {"\x00": f"{len(record)} fields, the header has {len(header)}"}
                else:
                    yield line, dict(zip(header, record, strict=True))
            line = reader.line_num + 1


def _json_lines(f: Any, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    for number, text in enumerate(f, start=1):
        if not text.strip():
            continue
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            yield number, {"\x00": f"not JSON ({exc.msg} at character {exc.colno})"}
            continue
        if not isinstance(doc, dict):
            yield number, {"\x00": "not a JSON object"}
            continue
        yield number, {str(k).strip().lower(): "" if v is None else str(v) for k, v in doc.items()}


def money(text: str) -> Money:
    m = _PRICE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an amount and a currency like \"189900 COP\" or \"189900.00 COP\"")
    return Money(Decimal(m[1]), m[2])


def product(file: str, line: int, raw: dict[str, str]) -> Product | RowError:
    """The row as a Product, or every problem it has."""
    if "\x00" in raw:
        return RowError(file, line, (("*", raw["\x00"]),))
    f = {k: v.strip() for k, v in raw.items()}
    problems: list[tuple[str, str]] = []
    for col in REQUIRED:
        if not f.get(col):
            problems.append((col, "is required and empty"))
    for col, limit in MAX_LEN.items():
        if len(f.get(col, "")) > limit:
            problems.append((col, f"is longer than {limit} characters"))
    availability = f.get("availability", "").lower().replace("_", " ")
    if availability and availability not in AVAILABILITY:
        problems.append(("availability", f"{f['availability']!r} is not one of {', '.join(AVAILABILITY)}"))
    condition = f.get("condition", "").lower() or "new"
    if condition not in CONDITIONS:
        problems.append(("condition", f"{f['condition']!r} is not one of {', '.join(CONDITIONS)}"))
    price = sale = None
    for col in ("price", "sale_price"):
        if f.get(col):
            try:
                value = money(f[col])
            except ValueError as exc:
                problems.append((col, str(exc)))
            else:
                price, sale = (value, sale) if col == "price" else (price, value)
    if price and sale and (sale.currency != price.currency or sale.amount > price.amount):
        problems.append(("sale_price", f"{f['sale_price']!r} must be in {price.currency} and not above price"))
    for col in ("link", "image_link"):
        if f.get(col) and not _URL.match(f[col]):
            problems.append((col, f"{f[col]!r} is not an http(s) URL"))
    quantity = None
    stock = f.get("quantity_to_sell_on_facebook", "")
    if stock:
        if stock.isdigit():
            quantity = int(stock)
        else:
            problems.append(("quantity_to_sell_on_facebook", f"{stock!r} is not a whole number of 0 or more"))
    if problems or price is None:
        return RowError(file, line, tuple(problems))
    attributes = {k: v for k, v in f.items() if k not in KNOWN and v}
    return Product(
        id=f["id"], title=f["title"], price=price, availability=availability, description=f.get("description", ""),
        condition=condition, sale_price=sale, link=f.get("link", ""), image_link=f.get("image_link", ""),
        brand=f.get("brand", ""), color=f.get("color", ""), size=f.get("size", ""), gender=f.get("gender", ""),
        material=f.get("material", ""), item_group_id=f.get("item_group_id", ""),
        product_type=f.get("product_type", ""), quantity=quantity, attributes=attributes)


def feed_fields(p: Product) -> dict[str, str]:
    """A product back as feed columns (an upsert row is laid over these)."""
    out = {k: str(getattr(p, k)) for k in KNOWN if k not in ("price", "sale_price", "quantity_to_sell_on_facebook")}
    out["price"] = p.price.feed_text()
    out["sale_price"] = p.sale_price.feed_text() if p.sale_price else ""
    out["quantity_to_sell_on_facebook"] = "" if p.quantity is None else str(p.quantity)
    out.update(p.attributes)
    return out


def validate(path: Path) -> tuple[int, list[RowError]]:
    """(good rows, errors) over the whole file, including duplicate ids."""
    seen: dict[str, int] = {}
    good, errors = 0, []
    for line, raw in rows(path):
        result = product(path.name, line, raw)
        if isinstance(result, RowError):
            errors.append(result)
        elif result.id in seen:
            errors.append(RowError(path.name, line, (("id", f"{result.id!r} repeats line {seen[result.id]}"),)))
        else:
            seen[result.id] = line
            good += 1
    return good, errors


def products(path: Path) -> Iterator[Product]:
    """The rows of a file `validate` accepted."""
    for line, raw in rows(path):
        result = product(path.name, line, raw)
        if isinstance(result, Product):
            yield result
