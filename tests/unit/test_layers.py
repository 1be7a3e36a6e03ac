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


def _imported_services(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and n.level == 0]
    return {m.split(".")[1] for m in modules if m.startswith("services.") and m.count(".") >= 1}


# What one service may take from another: the console acts through the notifier's operator rules and state, so a
# take-over, reply or release from a page and from the operator API are one code path.
ALLOWED_ACROSS = {("console", "notifier")}


def test_a_service_imports_no_other_service_but_the_allowed_ones() -> None:
    crossings = set()
    for path in sorted((ROOT / "services").rglob("*.py")):
        parts = path.relative_to(ROOT / "services").parts
        if len(parts) < 2:
            continue
        crossings |= {(parts[0], other) for other in _imported_services(path) if other != parts[0]}
    assert crossings - ALLOWED_ACROSS == set()
