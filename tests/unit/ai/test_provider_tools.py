"""Native tool calling on both providers' wire formats: Bedrock Converse (botocore Stubber) and the OpenAI
chat-completions shape (what the `openai` SDK sends; the round trip over HTTP is in the integration tests)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from services.ai.prompt import Message
from services.ai.providers import LLMRequest
from services.ai.providers.bedrock import BedrockProvider
from services.ai.providers.openai_compat import chat_message, chat_tools
from services.ai.toolspec import SEARCH_PRODUCTS, ToolCall

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
CALL = ToolCall("tooluse_1", "search_products", '{"query": "chaqueta impermeable", "size": "M"}')
RESULT = '{"results": [{"title": "Chaqueta impermeable Andes", "price": "189900 COP"}]}'


def _client():  # type: ignore[no-untyped-def]
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret-for-stubbed-client")


async def test_bedrock_offers_tools_in_tool_config_and_reads_tool_use() -> None:
    client = _client()
    req = LLMRequest([Message("system", "Eres el asistente."), Message("user", "¿tienen chaqueta en M?")],
                     None, 180, 0.4, 5.0, tools=(SEARCH_PRODUCTS,))
    expected = {
        "modelId": MODEL, "system": [{"text": "Eres el asistente."}],
        "messages": [{"role": "user", "content": [{"text": "¿tienen chaqueta en M?"}]}],
        "inferenceConfig": {"maxTokens": 180, "temperature": 0.4},
        "toolConfig": {"tools": [{"toolSpec": {"name": "search_products", "description": SEARCH_PRODUCTS.description,
                                               "inputSchema": {"json": SEARCH_PRODUCTS.parameters}}}]},
    }
    response = {
        "output": {"message": {"role": "assistant", "content": [
            {"text": "Busco en el catálogo."},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "search_products",
                         "input": {"query": "chaqueta impermeable", "size": "M"}}}]}},
        "stopReason": "tool_use", "usage": {"inputTokens": 300, "outputTokens": 30, "totalTokens": 330},
        "metrics": {"latencyMs": 300},
    }
    with Stubber(client) as stub:
        stub.add_response("converse", response, expected)
        res = await BedrockProvider(client, MODEL).complete(req)
        stub.assert_no_pending_responses()
    assert res.tool_calls == (CALL,) and res.text == "Busco en el catálogo."


async def test_bedrock_sends_tool_results_in_a_user_turn_after_the_tool_use() -> None:
    client = _client()
    req = LLMRequest([Message("system", "S"), Message("user", "¿tienen chaqueta en M?"),
                      Message("assistant", "", tool_calls=(CALL,)),
                      Message("tool", RESULT, tool_call_id="tooluse_1"),
                      Message("tool", '{"error": "x"}', tool_call_id="tooluse_2", tool_error=True)],
                     None, 180, 0.4, 5.0, tools=(SEARCH_PRODUCTS,))
    expected_messages = [
        {"role": "user", "content": [{"text": "¿tienen chaqueta en M?"}]},
        {"role": "assistant", "content": [{"toolUse": {"toolUseId": "tooluse_1", "name": "search_products",
                                                       "input": {"query": "chaqueta impermeable", "size": "M"}}}]},
        {"role": "user", "content": [
            {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": RESULT}], "status": "success"}},
            {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": '{"error": "x"}'}], "status": "error"}}]},
    ]
    response = {"output": {"message": {"role": "assistant", "content": [{"text": "Sí, a 189900 COP."}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 400, "outputTokens": 10, "totalTokens": 410},
                "metrics": {"latencyMs": 200}}
    with Stubber(client) as stub:
        stub.add_response("converse", response, {
            "modelId": MODEL, "system": [{"text": "S"}], "messages": expected_messages,
            "inferenceConfig": {"maxTokens": 180, "temperature": 0.4},
            "toolConfig": {"tools": [{"toolSpec": {"name": "search_products",
                                                   "description": SEARCH_PRODUCTS.description,
                                                   "inputSchema": {"json": SEARCH_PRODUCTS.parameters}}}]}})
        res = await BedrockProvider(client, MODEL).complete(req)
    assert res.text == "Sí, a 189900 COP." and res.tool_calls == ()


def test_openai_shape_of_tools_calls_and_results() -> None:
    assert chat_tools([SEARCH_PRODUCTS]) == [{"type": "function", "function": {
        "name": "search_products", "description": SEARCH_PRODUCTS.description,
        "parameters": SEARCH_PRODUCTS.parameters}}]
    assert chat_message(Message("assistant", "", tool_calls=(CALL,))) == {
        "role": "assistant", "content": None, "tool_calls": [{"id": "tooluse_1", "type": "function", "function": {
            "name": "search_products", "arguments": CALL.arguments}}]}
    assert chat_message(Message("tool", RESULT, tool_call_id="tooluse_1")) == {
        "role": "tool", "tool_call_id": "tooluse_1", "content": RESULT}
    assert chat_message(Message("user", "hola")) == {"role": "user", "content": "hola"}
