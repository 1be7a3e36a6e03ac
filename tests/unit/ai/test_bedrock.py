"""The Bedrock provider against botocore's Stubber: the Converse request we send and how we read the answer."""

import boto3
import pytest
from botocore.stub import Stubber

from services.ai.prompt import Message
from services.ai.providers import LLMRequest, ProviderError
from services.ai.providers.bedrock import BedrockProvider

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
REQ = LLMRequest([Message("system", "Eres el asistente."), Message("assistant", "¡Hola! ¿En qué te ayudo?"),
                  Message("user", "hola"), Message("assistant", "Dime"), Message("user", "¿tienen talla 40?")],
                 None, 180, 0.4, 5.0)


def _client():  # type: ignore[no-untyped-def]
    return boto3.client("bedrock-runtime", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret-for-stubbed-client")


async def test_converse_request_shape_and_response_parsing() -> None:
    client = _client()
    expected = {
        "modelId": MODEL,
        "system": [{"text": "Eres el asistente."}],
        "messages": [  # starts with a user turn: Converse refuses a leading assistant turn
            {"role": "user", "content": [{"text": "hola"}]},
            {"role": "assistant", "content": [{"text": "Dime"}]},
            {"role": "user", "content": [{"text": "¿tienen talla 40?"}]},
        ],
        "inferenceConfig": {"maxTokens": 180, "temperature": 0.4},
    }
    response = {
        "output": {"message": {"role": "assistant", "content": [{"text": '{"answer": "Sí, hay talla 40."'},
                                                                 {"text": ', "handoff": false}'}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 321, "outputTokens": 17, "totalTokens": 338},
        "metrics": {"latencyMs": 420},
    }
    with Stubber(client) as stub:
        stub.add_response("converse", response, expected)
        res = await BedrockProvider(client, MODEL).complete(REQ)
        stub.assert_no_pending_responses()
    assert res.text == '{"answer": "Sí, hay talla 40.", "handoff": false}'
    assert (res.model, res.input_tokens, res.output_tokens) == (MODEL, 321, 17)


@pytest.mark.parametrize(("status", "code", "kind"), [
    (503, "ServiceUnavailableException", "error_5xx"),
    (429, "ThrottlingException", "error_5xx"),
    (400, "ValidationException", "error"),
])
async def test_service_errors_map_to_chain_decisions(status: int, code: str, kind: str) -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("converse", service_error_code=code, http_status_code=status)
        with pytest.raises(ProviderError) as err:
            await BedrockProvider(client, MODEL).complete(REQ)
    assert err.value.kind == kind
