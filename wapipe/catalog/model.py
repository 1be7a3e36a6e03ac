"""The catalog's values: a product row (one variant, Meta's feed columns), a catalog version, and a search hit
(a product group with its matching variants)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

AVAILABILITY = ("in stock", "out of stock", "preorder", "available for order", "discontinued")
IN_STOCK = frozenset({"in stock", "preorder", "available for order"})


@dataclass(frozen=True)
class Money:
    """An amount in the currency's units (`Decimal`, never float) and its ISO 4217 code."""

    amount: Decimal
    currency: str

    def number(self) -> int | float:
        """The amount for JSON: an int when whole (COP), else a float with its cents."""
        return int(self.amount) if self.amount == self.amount.to_integral_value() else float(self.amount)

    def feed_text(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class Product:
    """One row of the feed: a variant when `item_group_id` is set (variants of one product share it)."""

    id: str
    title: str
    price: Money
    availability: str = "in stock"
    description: str = ""
    condition: str = "new"
    sale_price: Money | None = None
    link: str = ""
    image_link: str = ""
    brand: str = ""
    color: str = ""
    size: str = ""
    gender: str = ""
    material: str = ""
    item_group_id: str = ""
    product_type: str = ""
    quantity: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The product group: `item_group_id`, or the row's own id when it has no variants."""
        return self.item_group_id or self.id

    @property
    def in_stock(self) -> bool:
        return self.availability in IN_STOCK and (self.quantity is None or self.quantity > 0)

    @property
    def effective_price(self) -> Money:
        return self.sale_price or self.price


@dataclass(frozen=True)
class CatalogVersion:
    """A tenant's current catalog: a number that grows with every import or upsert, and its size."""

    tenant: str
    version: int
    products: int
    groups: int
    in_stock: int
    imported_at: str
    source: str = ""
    checksum: str = ""


@dataclass(frozen=True)
class Variant:
    id: str
    size: str
    color: str
    availability: str
    quantity: int | None


@dataclass(frozen=True)
class Hit:
    """A product group that matched: the best matching variant's id and price, the sizes and colours of the
    matching variants (in stock first), and each matching variant's stock. `score` is relative, best first."""

    id: str
    item_group_id: str
    title: str
    price: int | float
    currency: str
    availability: str
    size: list[str]
    color: list[str]
    link: str
    image_link: str = ""
    brand: str = ""
    sale_price: int | float | None = None
    product_type: str = ""
    description: str = ""
    variants: list[Variant] = field(default_factory=list)
    score: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
