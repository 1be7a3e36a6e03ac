"""The AI stage's rare counters are shown at 0 for the known tenants before their first event."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.ai.metrics import AIMetrics


def test_known_tenants_start_with_their_rare_counters_at_zero() -> None:
    reg = CollectorRegistry()
    AIMetrics(reg).start(["100000000000001", "100000000000002"])
    for tenant in ("100000000000001", "100000000000002"):
        assert reg.get_sample_value("wapipe_llm_spend_cap_hits_total", {"tenant": tenant}) == 0.0
        for outcome in ("hit", "miss"):
            assert reg.get_sample_value("wapipe_ai_answer_cache_total", {"tenant": tenant, "outcome": outcome}) == 0.0
    assert reg.get_sample_value("wapipe_llm_spend_cap_hits_total", {"tenant": "100000000000003"}) is None
