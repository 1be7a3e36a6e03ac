"""Optional embeddings for hybrid catalog search, through an OpenAI-compatible `/v1/embeddings` endpoint.

A product group's text (title, type, brand, description of its first row) is embedded at import time and stored
beside the catalog's generation in the backend; the question is embedded at search time. `fuse` blends the
lexical ranking with the vector ranking by reciprocal rank fusion. Without a model configured nothing here runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from wapipe.catalog.model import Product

RRF_K = 60  # reciprocal rank fusion's damping constant (the usual value)
BATCH = 64  # texts per embeddings request at import


class Embedder(Protocol):
    """Texts -> one vector each, in order. Raises on any failure (the search falls back to lexical)."""

    model: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class OpenAIEmbedder:
    """`Embedder` over the `openai` SDK (any OpenAI-compatible base URL)."""

    def __init__(self, model: str, base_url: str, api_key: str, *, timeout: float = 5.0) -> None:
        from openai import AsyncOpenAI  # imported when configured only

        self.model = model
        self._client = AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        resp = await self._client.embeddings.create(model=self.model, input=list(texts))
        return [list(d.embedding) for d in sorted(resp.data, key=lambda d: d.index)]

    async def close(self) -> None:
        await self._client.close()


def group_texts(products: Iterable[Product]) -> dict[str, str]:
    """Product group -> the text embedded for it (its first row's title, type, brand and description)."""
    out: dict[str, str] = {}
    for p in products:
        if p.group not in out:
            out[p.group] = " ".join(x for x in (p.title, p.product_type, p.brand, p.description[:300]) if x)
    return out


async def embed_groups(embedder: Embedder, texts: Mapping[str, str]) -> dict[str, list[float]]:
    groups = list(texts)
    vectors: dict[str, list[float]] = {}
    for start in range(0, len(groups), BATCH):
        chunk = groups[start:start + BATCH]
        for g, v in zip(chunk, await embedder.embed([texts[g] for g in chunk]), strict=True):
            vectors[g] = v
    return vectors


def nearest(query: Sequence[float], vectors: Mapping[str, Sequence[float]], limit: int) -> list[tuple[str, float]]:
    """The `limit` groups of highest cosine similarity to `query`, best first."""
    qn = math.sqrt(sum(x * x for x in query)) or 1.0
    scored = []
    for g, v in vectors.items():
        vn = math.sqrt(sum(x * x for x in v)) or 1.0
        scored.append((g, sum(a * b for a, b in zip(query, v, strict=False)) / (qn * vn)))
    scored.sort(key=lambda gs: -gs[1])
    return scored[:limit]


def fuse(*rankings: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: each group scores the sum of 1 / (RRF_K + rank) over the rankings it is in."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (g, _) in enumerate(ranking, start=1):
            fused[g] = fused.get(g, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(fused.items(), key=lambda gs: -gs[1])
