"""The OpenAI-compatible endpoint through the real `openai` SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState


@pytest.fixture
def llm_sim() -> Iterator[BackgroundSimulator]:
    with BackgroundSimulator(SimState(ingress_url=None)) as s:
        yield s


def _client(sim: BackgroundSimulator, key: str = "dev-openai-key") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{sim.url}/v1", api_key=key, max_retries=0, timeout=5)


def test_answers_in_spanish_about_the_question_with_usage(llm_sim: BackgroundSimulator) -> None:
    c = _client(llm_sim)
    r = c.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "Eres el asistente de una tienda."},
        {"role": "user", "content": "¿Cuánto tarda el envío a Medellín?"}])
    assert "envíos" in (r.choices[0].message.content or "")
    assert r.usage is not None and r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0
    assert [m.id for m in c.models.list().data] == ["gpt-4o-mini"]


def test_json_response_format(llm_sim: BackgroundSimulator) -> None:
    r = _client(llm_sim).chat.completions.create(
        model="gpt-4o-mini", response_format={"type": "json_object"},
        messages=[{"role": "user", "content": "Quiero hablar con un asesor"}])
    doc = json.loads(r.choices[0].message.content or "")
    assert doc["handoff"] is True and doc["answer"]


def test_wrong_key_and_injected_failures(llm_sim: BackgroundSimulator) -> None:
    with pytest.raises(openai.AuthenticationError):
        _client(llm_sim, "wrong").chat.completions.create(model="m", messages=[{"role": "user", "content": "hola"}])
    httpx.post(f"{llm_sim.url}/_sim/llm", json={"fail_next": 1, "fail_status": 429}).raise_for_status()
    with pytest.raises(openai.RateLimitError):
        _client(llm_sim).chat.completions.create(model="m", messages=[{"role": "user", "content": "hola"}])
    ok = _client(llm_sim).chat.completions.create(model="m", messages=[{"role": "user", "content": "hola"}])
    assert ok.choices[0].message.content


def test_latency_makes_the_client_time_out(llm_sim: BackgroundSimulator) -> None:
    httpx.post(f"{llm_sim.url}/_sim/llm", json={"latency_s": 2}).raise_for_status()
    c = openai.OpenAI(base_url=f"{llm_sim.url}/v1", api_key="dev-openai-key", max_retries=0, timeout=0.5)
    with pytest.raises(openai.APITimeoutError):
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hola"}])
