"""Imports point one way: schemas <- wapipe (platform) <- services <- wapipe_tools <- bench."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["schemas", "wapipe", "services", "wapipe_tools", "bench"]


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(_imported_top_levels(path) & above)}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        if _imported_top_levels(path) & above
    ]
    assert offenders == []
