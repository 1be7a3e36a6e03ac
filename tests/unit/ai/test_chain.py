from prometheus_client import CollectorRegistry

from services.ai.breaker import CircuitBreaker
from services.ai.chain import LLMChain
from services.ai.metrics import AIMetrics
from services.ai.prompt import Message
from services.ai.providers import LLMRequest
from tests.unit.ai.fixtures import ScriptedProvider

REQ = LLMRequest([Message("user", "hola")], None, 180, 0.4, 2.0)


def _chain(*providers: ScriptedProvider, failures: int = 3) -> tuple[LLMChain, CollectorRegistry]:
    reg = CollectorRegistry()
    return LLMChain(providers, AIMetrics(reg), retries_on_5xx=1, circuit_failures=failures, backoff_s=0.0), reg


async def test_5xx_is_retried_then_the_secondary_answers() -> None:
    primary, secondary = ScriptedProvider("openai", ["error_5xx"]), ScriptedProvider("bedrock", ['{"answer":"ok"}'])
    chain, reg = _chain(primary, secondary)
    res = await chain.complete(REQ)
    assert res.provider == "bedrock" and res.result is not None
    assert res.attempts == ["openai:error_5xx", "openai:error_5xx", "bedrock:ok"]
    assert reg.get_sample_value("wapipe_llm_calls_total", {"provider": "openai", "outcome": "error_5xx"}) == 2


async def test_timeout_is_not_retried_and_every_provider_failing_means_fallback() -> None:
    primary, secondary = ScriptedProvider("openai", ["timeout"]), ScriptedProvider("bedrock", ["error"])
    res = await _chain(primary, secondary)[0].complete(REQ)
    assert res.result is None and res.attempts == ["openai:timeout", "bedrock:error"]


async def test_open_circuit_skips_the_provider() -> None:
    primary = ScriptedProvider("openai", ["error"])
    chain, reg = _chain(primary, failures=2)
    await chain.complete(REQ)
    await chain.complete(REQ)
    res = await chain.complete(REQ)
    assert res.attempts == ["openai:circuit_open"] and len(primary.calls) == 2
    assert reg.get_sample_value("wapipe_llm_circuit_state", {"provider": "openai"}) == 1


def test_breaker_half_open_probe_closes_or_reopens() -> None:
    now = [0.0]
    b = CircuitBreaker("openai", AIMetrics(CollectorRegistry()), failures=2, cooldown_s=10, clock=lambda: now[0])
    b.failure()
    b.failure()
    assert b.state == "open" and not b.allow()
    now[0] = 10.0
    assert b.allow() and b.state == "half_open"
    assert not b.allow()  # one probe at a time
    b.failure()
    assert b.state == "open"
    now[0] = 20.0
    assert b.allow()
    b.success()
    assert b.state == "closed" and b.allow()
