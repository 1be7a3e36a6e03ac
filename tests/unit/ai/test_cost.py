"""Prices by the longest known prefix of the model name, and the worst case a spend reservation holds."""

from __future__ import annotations

import pytest

from services.ai.config import DEFAULT_PRICES, AISettings
from services.ai.cost import PriceTable
from services.ai.prompt import Message
from services.ai.providers import LLMRequest

DEFAULT = AISettings(_env_file=None).llm_default_price


def table(**kwargs: object) -> PriceTable:
    return PriceTable(DEFAULT_PRICES, DEFAULT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("answered", "family"), [
    ("gpt-4o-2024-08-06", "gpt-4o"), ("gpt-4o-2024-11-20", "gpt-4o"),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest prefix wins: not priced as gpt-4o
    ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
    ("anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"),
])
def test_dated_snapshot_names_are_priced_like_their_family(answered: str, family: str) -> None:
    prices = table()
    assert prices.price(answered) == DEFAULT_PRICES[family]
    assert prices.cost(answered, 1_000_000, 1_000_000) == pytest.approx(sum(DEFAULT_PRICES[family]))


def test_gpt_4o_snapshots_are_no_longer_priced_at_the_default() -> None:
    # The ~3x under-count: OpenAI answers "gpt-4o-2024-08-06" for "gpt-4o" and an exact lookup fell to the default
    # price, 2.5x cheaper on input and 3.3x on output.
    prices = table()
    assert prices.cost("gpt-4o-2024-08-06", 0, 1000) == pytest.approx(prices.cost("gpt-4o", 0, 1000))
    assert prices.cost("gpt-4o-2024-08-06", 1000, 0) == pytest.approx(prices.cost("gpt-4o", 1000, 0))
    assert prices.cost("gpt-4o-2024-08-06", 0, 1000) > 3 * prices.cost("no-such-model", 0, 1000)


def test_a_prefix_only_matches_at_a_separator() -> None:
    prices = PriceTable({"gpt-4": (30.0, 60.0), "o1": (15.0, 60.0)}, (1.0, 3.0))
    assert prices.price("gpt-4-0613") == (30.0, 60.0)
    assert prices.price("gpt-4o") == (1.0, 3.0)  # another model, not a gpt-4 snapshot
    assert prices.price("o1-preview-2024-09-12") == (15.0, 60.0)
    assert prices.price("o10") == (1.0, 3.0)


def test_unknown_answer_falls_back_to_the_requested_model_then_the_default() -> None:
    prices = table()
    assert prices.price("my-vllm-deployment", requested="gpt-4o") == DEFAULT_PRICES["gpt-4o"]
    assert prices.price("my-vllm-deployment", requested=None) == DEFAULT
    assert prices.price("mystery", requested="unknown-too") == DEFAULT


def test_worst_case_counts_every_input_byte_and_the_whole_output_limit_at_the_dearest_model() -> None:
    messages = [Message("system", "Eres el asistente. ñandú 👟"), Message("user", "¿hacen envíos?")]
    nbytes = sum(len(m.content.encode()) for m in messages)
    req = LLMRequest(messages, "gpt-4o-mini", 180, 0.4, 8.0)
    p_in, p_out = DEFAULT_PRICES["gpt-4o-mini"]
    worst = table().worst_case(req)
    assert worst >= (nbytes * p_in + 180 * p_out) / 1_000_000
    assert worst < ((nbytes + 100) * p_in + 180 * p_out) / 1_000_000  # framing is a few tokens, not a multiple
    longer = LLMRequest(messages, "gpt-4o-mini", 360, 0.4, 8.0)
    assert table().worst_case(longer) > worst

    # No model named: the providers' defaults decide, and the dearest of them is held.
    unnamed = LLMRequest(messages, None, 180, 0.4, 8.0)
    both = table(default_models=["gpt-4o-mini", "gpt-4o-2024-08-06"]).worst_case(unnamed)
    assert both == pytest.approx(table(default_models=["gpt-4o"]).worst_case(unnamed))
    assert table(default_models=["gpt-4o-mini"]).worst_case(unnamed) == pytest.approx(worst)
