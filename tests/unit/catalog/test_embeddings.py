"""Reciprocal rank fusion, cosine ranking, and the simulator's deterministic embeddings."""

from __future__ import annotations

import math

from wapipe.catalog.embeddings import RRF_K, fuse, nearest
from wapipe_tools.simulator.embeddings import DIMENSIONS, vector


def test_fusion_rewards_groups_both_rankings_hold() -> None:
    fused = fuse([("a", 9.0), ("b", 5.0), ("c", 1.0)], [("c", 0.9), ("b", 0.8), ("d", 0.7)])
    assert {g for g, _ in fused[:2]} == {"b", "c"}  # in both rankings; "a" and "d" in one each
    assert dict(fused)["a"] == 1.0 / (RRF_K + 1) and dict(fused)["d"] == 1.0 / (RRF_K + 3)


def test_nearest_orders_by_cosine() -> None:
    vectors = {"x": [1.0, 0.0], "y": [0.7, 0.7], "z": [0.0, 1.0]}
    assert [g for g, _ in nearest([1.0, 0.1], vectors, 2)] == ["x", "y"]


def test_simulated_embeddings_are_normalised_deterministic_and_near_for_similar_words() -> None:
    a, b, c = vector("zapatillas blancas"), vector("Zapatilla blanca"), vector("chaqueta impermeable")
    assert len(a) == DIMENSIONS and math.isclose(sum(x * x for x in a), 1.0)
    assert vector("zapatillas blancas") == a and vector("canción") == vector("cancion")

    def cos(u: list[float], v: list[float]) -> float:
        return sum(x * y for x, y in zip(u, v, strict=True))

    assert cos(a, b) > 0.6 > cos(a, c)
