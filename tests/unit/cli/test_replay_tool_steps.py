"""`wapipe replay diff` shows a change in the tool calls an answer made (the `tool:<name>` steps), and only that:
the calls' latencies live in the attrs, so the same calls at another speed are no change."""

from __future__ import annotations

from datetime import UTC, datetime

from wapipe.store.port import TraceRecord
from wapipe_tools.replay.diff import compare

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def answered(cid: str, *tools: str, latency: float = 0.01) -> TraceRecord:
    return TraceRecord(tenant="1", conversation="1:u", correlation_id=cid, ts=NOW, outcome="replied", route="ai",
                       decision_path=("route:ai", *(f"tool:{t}" for t in tools), "ai:answered:openai"),
                       attrs={f"tool_{i}_latency_s": latency for i in range(1, len(tools) + 1)})


def test_a_changed_tool_call_is_a_change_and_a_slower_one_is_not() -> None:
    report = compare([answered("a", "search_products"), answered("b", "search_products")],
                     [answered("a", "search_products", latency=0.5), answered("b", "search_products", "get_product")])
    assert (report.compared, report.unchanged, report.changed) == (2, 1, 1)
    [change] = report.changes
    assert (change.correlation_id, change.field) == ("b", "decision_path")
    assert change.after == "route:ai > tool:search_products > tool:get_product > ai:answered:openai"
