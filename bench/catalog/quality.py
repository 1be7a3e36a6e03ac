"""Ranking quality of `Catalog.search` on a labelled set of questions: recall@3 and MRR (first relevant hit in
the top 10), with the questions that missed, so a change to the ranking is judged on figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wapipe.catalog import Catalog

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ROOT / "tests" / "data" / "labelled" / "catalog_questions.yaml"
HOLDOUT = ROOT / "tests" / "data" / "labelled" / "catalog_holdout.yaml"
DEMO_FEED = ROOT / "config" / "catalogs" / "demo.csv"
DEMO_TENANT = "100000000000001"


@dataclass
class Quality:
    questions: int
    recall_at_3: float
    mrr: float
    misses: list[dict[str, Any]] = field(default_factory=list)  # not in the top 3: question, expected, got


def load(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8")))


async def evaluate(catalog: Catalog, tenant: str, questions: list[dict[str, Any]]) -> Quality:
    found, reciprocal = 0, 0.0
    misses = []
    for item in questions:
        hits = await catalog.search(tenant, item["q"], limit=10)
        groups = [h.item_group_id or h.id for h in hits]
        rank = next((i for i, g in enumerate(groups, 1) if g in item["expect"]), None)
        if rank is not None:
            reciprocal += 1 / rank
        if rank is not None and rank <= 3:
            found += 1
        else:
            misses.append({"q": item["q"], "expect": item["expect"], "got": groups[:3], "rank": rank})
    n = max(1, len(questions))
    return Quality(len(questions), found / n, reciprocal / n, misses)
