"""`/api/chat`'s reply carries the AI stage's tool calls: names from the decision path, figures from the attrs."""

from schemas.envelope import Trace
from wapipe.apichat import ApiChatReply, tool_calls


def test_tool_calls_of_a_trace_travel_in_the_api_reply() -> None:
    t = Trace(decision_path=["dedupe:new", "tool:search_products", "tool:order_status", "ai:answered:openai"],
              attrs={"tool_1_outcome": "ok", "tool_1_results": 3, "tool_1_latency_s": 0.012,
                     "tool_2_outcome": "timeout", "tool_2_results": 0, "tool_2_latency_s": 3.0})
    calls = tool_calls(t)
    assert calls == [{"name": "search_products", "outcome": "ok", "results": 3, "latency_s": 0.012},
                     {"name": "order_status", "outcome": "timeout", "results": 0, "latency_s": 3.0}]
    reply = ApiChatReply(reply="Hola", decision_path=t.decision_path, tools=calls)
    assert ApiChatReply.decode(reply.encode()) == reply
    assert ApiChatReply.decode('{"reply": "x"}').tools == []  # a reply pushed by an older sender
