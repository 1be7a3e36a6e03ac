"""The runtime's modules form no cycle: the worker drives the record processor, both read `WorkerConfig`."""

from __future__ import annotations

import ast
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[3] / "wapipe" / "runtime"


def _runtime_imports(module: str) -> set[str]:
    tree = ast.parse((RUNTIME / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wapipe.runtime."):
            found.add(node.module.removeprefix("wapipe.runtime."))
    return found


def test_process_does_not_import_the_worker_and_both_take_the_config_from_its_own_module() -> None:
    assert "worker" not in _runtime_imports("process")
    assert "process" in _runtime_imports("worker")
    assert "config" in _runtime_imports("process") and "config" in _runtime_imports("worker")
