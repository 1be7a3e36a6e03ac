"""`Catalog.search(tenant, question)`: the function `wapipe catalog search` and the AI stage's
`search_products` tool both call, and `Catalog.get_product(tenant, id)`.

Ranking: the question's words (Spanish-normalised; misspellings corrected and run-together words split against
the tenant's vocabulary) ask the backend for lexical candidates (bm25 over title, type and brand, attributes,
description); candidates collapse to their product group; groups that cover more of the question's words and
have stock rank higher. The sizes and colours a question states filter the variants a hit shows: groups with a
matching variant come first, and a group with none comes after them all, showing what it does have (so "no
black ones in 40, but 41 in white" can be answered). Price bounds are strict. A new catalog version is noticed on
the next call (one small read of the version row).

Hybrid (when an `Embedder` is given and the catalog holds group embeddings of its model): the question's vector
ranks the groups by cosine similarity, and that ranking is fused with the lexical one by reciprocal rank fusion
before the filters above apply. An embeddings endpoint that fails at search time is logged and counted
(`embedding_fallbacks`), and the answer is the lexical one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from wapipe.catalog import embeddings, fuzzy
from wapipe.catalog.codec import index_fields
from wapipe.catalog.model import Hit, Product, Variant
from wapipe.catalog.normalize import terms as text_terms
from wapipe.catalog.port import CatalogStore
from wapipe.catalog.query import ParsedQuery, normal_size, parse

log = logging.getLogger(__name__)

GROUPS_EXAMINED = 4  # groups fetched whole per hit asked for
OUT_OF_STOCK_FACTOR = 0.6
MAX_LIMIT = 50


class Catalog:
    """Search and lookup over a CatalogStore; keeps each tenant's vocabulary for the version it was read at."""

    def __init__(self, store: CatalogStore, embedder: embeddings.Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.embedding_fallbacks = 0  # searches answered lexically because the embeddings endpoint failed
        self._vocab: dict[str, tuple[int, dict[str, int]]] = {}
        self._vectors: dict[str, tuple[int, dict[str, list[float]]]] = {}

    async def search(self, tenant: str, query: str, *, limit: int = 5) -> list[Hit]:
        """Product groups for a customer's question, best first (at most `limit`, capped at 50)."""
        limit = max(1, min(limit, MAX_LIMIT))
        version = await self.store.version(tenant)
        if version is None or not query.strip():
            return []
        parsed = parse(query)
        # Colours are filters; as words they would only rank every white thing above the shoes asked for.
        wanted = [t for t in parsed.terms if t not in parsed.colours] or parsed.terms
        exact, prefixes = await self._expand(tenant, version.version, wanted)
        if not exact and not prefixes and not _has_filters(parsed):
            return []
        ranked = await self.store.lexical(tenant, exact, prefixes, limit * GROUPS_EXAMINED)
        if self.embedder is not None and (exact or prefixes):
            near = await self._nearest(tenant, version.version, query, limit * GROUPS_EXAMINED)
            if near:
                ranked = embeddings.fuse(ranked, near)[:limit * GROUPS_EXAMINED]
        rows = await self.store.groups(tenant, [g for g, _ in ranked])
        words = [w for w in exact + prefixes if w not in parsed.colours] or exact + prefixes
        scored = [h for g, score in ranked if g in rows and (h := _hit(rows[g], parsed, score, words)) is not None]
        scored.sort(key=lambda mh: (not mh[0], -mh[1].score))
        hits = [h for _, h in scored[:limit]]
        top = max((h.score for h in hits), default=1.0) or 1.0
        return [replace(h, score=round(h.score / top, 4)) for h in hits]

    async def get_product(self, tenant: str, product_id: str) -> Hit | None:
        """One product by a variant's id (that variant leads: its id, price, availability) or its group id,
        with every variant."""
        product = await self.store.get(tenant, product_id)
        group = product.group if product else product_id
        rows = (await self.store.groups(tenant, [group])).get(group, [])
        if not rows:
            return None
        found = _hit(rows, parse(""), 1.0, [], lead_id=product_id)
        return found[1] if found else None

    async def _nearest(self, tenant: str, version: int, query: str, n: int) -> list[tuple[str, float]]:
        """Groups nearest the question's embedding, or [] (no embeddings stored, or the endpoint failed)."""
        assert self.embedder is not None
        cached = self._vectors.get(tenant)
        if cached is None or cached[0] != version:
            cached = (version, await self.store.vectors(tenant, self.embedder.model))
            self._vectors[tenant] = cached
        if not cached[1]:
            return []
        try:
            (vector,) = await self.embedder.embed([query])
        except Exception as exc:  # noqa: BLE001  (any failure of the endpoint: answer lexically)
            self.embedding_fallbacks += 1
            log.warning("catalog embeddings failed, lexical search only: %s", type(exc).__name__)
            return []
        return embeddings.nearest(vector, cached[1], n)

    async def _expand(self, tenant: str, version: int, words: Sequence[str]) -> tuple[list[str], list[str]]:
        cached = self._vocab.get(tenant)
        if cached is None or cached[0] != version:
            cached = (version, await self.store.vocabulary(tenant))
            self._vocab[tenant] = cached
        vocab = cached[1]
        exact: list[str] = []
        prefixes: list[str] = []
        for w in dict.fromkeys(words):
            if w in vocab:
                exact.append(w)
            elif parts := _split(w, vocab):
                exact.extend(parts)
            elif fixed := fuzzy.correct(w, vocab):
                exact.append(fixed)
            elif len(w) >= 4:
                prefixes.append(w)
        return exact, prefixes


def _split(word: str, vocab: dict[str, int]) -> list[str]:
    """A run-together word ("airforce", "newbalance") as two known terms, else []."""
    if len(word) < 6 or not word.isalpha():
        return []
    for i in range(2, len(word) - 1):
        if word[:i] in vocab and word[i:] in vocab:
            return [word[:i], word[i:]]
    return []


def _has_filters(q: ParsedQuery) -> bool:
    return bool(q.sizes or q.colours or q.max_price is not None or q.min_price is not None)


def _in_budget(p: Product, q: ParsedQuery) -> bool:
    price = p.effective_price.amount
    return (q.max_price is None or price <= q.max_price) and (q.min_price is None or price >= q.min_price)


def _fits(p: Product, q: ParsedQuery) -> bool:
    if q.sizes and normal_size(p.size) not in q.sizes:
        return False
    if q.colours:
        own = set(text_terms(p.color)) if p.color else set(text_terms(p.title))
        return bool(own.intersection(q.colours))
    return True


def _coverage(p: Product, words: Sequence[str]) -> float:
    if not words:
        return 1.0
    title, kind, attrs, _ = index_fields(p)
    have = set(f"{title} {kind} {attrs}".split())
    found = sum(1 for w in words if w in have or any(h.startswith(w) for h in have))
    return found / len(words)


def _hit(rows: list[Product], q: ParsedQuery, score: float, words: Sequence[str], *,
         lead_id: str = "") -> tuple[bool, Hit] | None:
    """(whether some variant fits the stated size and colour, the hit), or None when nothing is in budget."""
    affordable = [p for p in rows if _in_budget(p, q)]
    if not affordable:
        return None
    fitting = [p for p in affordable if _fits(p, q)]
    matching = fitting or affordable
    stocked = [p for p in matching if p.in_stock]
    lead = next((p for p in matching if p.id == lead_id), None) or (stocked or matching)[0]
    shown = stocked or matching
    score = score * (0.5 + _coverage(lead, words)) * (1.0 if stocked else OUT_OF_STOCK_FACTOR)
    hit = Hit(
        id=lead.id, item_group_id=lead.item_group_id, title=lead.title, price=lead.price.number(),
        currency=lead.price.currency,
        availability=lead.availability if lead.id == lead_id or not stocked else "in stock",
        size=_unique(p.size for p in shown), color=_unique(p.color for p in shown), link=lead.link,
        image_link=lead.image_link, brand=lead.brand,
        sale_price=lead.sale_price.number() if lead.sale_price else None, product_type=lead.product_type,
        description=lead.description[:300],
        variants=[Variant(p.id, p.size, p.color, p.availability, p.quantity) for p in matching], score=score)
    return bool(fitting) or not (q.sizes or q.colours), hit


def _unique(values: object) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:  # type: ignore[attr-defined]
        if v:
            seen.setdefault(v)
    return list(seen)
