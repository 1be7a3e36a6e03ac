"""The benchmarks' accounting (`bench.common.check.match`): a message counts as answered by any reply that
answers it, lost only when none reached the Graph API."""

from __future__ import annotations

from bench.common.check import match
from bench.common.webhooks import Sent
from schemas.envelope import derive_id


def _sent(wamid: str, route: str = "faq") -> Sent:
    return Sent(wamid, "573001110000", route, 0, scheduled=100.0, accepted=100.5, status=200)


def _at_graph(reply_id: str, at: float) -> dict[str, object]:
    return {"biz_opaque_callback_data": f"{reply_id}:0", "timestamp": at}


def test_a_faq_question_the_model_answered_is_answered_not_lost() -> None:
    routed, plain, missing = _sent("wamid.A"), _sent("wamid.B"), _sent("wamid.C")
    graph = [_at_graph(derive_id("wamid.A", "ai", 0), 103.0),  # its classification ran out of time: the AI answered
             _at_graph(derive_id("wamid.B", "guardrails", 0), 101.0)]
    out = match([routed, plain, missing], graph)
    assert out.answered == 2 and [m.wamid for m in out.lost] == ["wamid.C"]
    assert sorted(out.latencies) == [0.5, 2.5] and out.other_sends == 0
