"""Tenant-supplied patterns cannot stall guardrails: what RE2 cannot run is refused at load, what it accepts runs
in linear time, the classifier sees at most 4,096 characters, and a classification has a budget.

No timing assertions: the catastrophic pattern below would take longer than the age of the universe on Python's
`re` for the texts used here, so a regression shows up as this test never finishing (pytest-timeout fails it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import re2
import yaml
from prometheus_client import CollectorRegistry

from schemas.events import MessageReceived
from schemas.meta.webhook import WebhookPayload
from services.guardrails.budget import BUDGET_RULE, MAX_TEXT_CHARS, ClassifyLimits
from services.guardrails.classify import classify
from services.guardrails.handlers import GuardrailsHandler, Limits, Ports
from services.guardrails.metrics import GuardrailsMetrics
from services.guardrails.route import decide
from services.ingress.normalize import normalize as normalize_webhook
from tests.fakes.store import MemoryStore
from tests.unit.guardrails.consent_fakes import MemoryConsent
from tests.unit.guardrails.messages import OPEN_AT, inbound, meta
from tests.unit.guardrails.test_handlers import AnswerFakes, Fakes
from wapipe.tenants import Tenant, TenantConfigError, load_tenant

ROOT = Path(__file__).parents[2]
DEMO = ROOT / "config" / "tenants" / "demo.yaml"
META = ROOT / "tests" / "data" / "meta" / "v25.0"
CATASTROPHIC = r"^(\w+\s?)+$x"  # backtracks exponentially on Python's re: ~5 s for 26 characters
RE2_REGEX = type(re2.compile("x"))


def demo_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return doc


def write_tenant(tmp_path: Path, doc: dict[str, Any], name: str = "shop") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def with_faq_pattern(pattern: str) -> dict[str, Any]:
    doc = demo_doc()
    doc["faqs"][0]["patterns"].append(pattern)
    return doc


@pytest.mark.parametrize("pattern", [
    r"(\w+)\s+\1",  # backreference
    r"talla(?=\s+40)",  # look-ahead
    r"(?<!no\s)quiero",  # look-behind
    r"(?>a+)b",  # atomic group
    r"a++b",  # possessive quantifier
    r"(\w+\s?){1000}",  # accepted by RE2 but too large a program (8,004 instructions) to run cheaply
    "x" * 1001,  # over the length limit
])
def test_a_pattern_re2_cannot_run_cheaply_is_refused_naming_file_rule_and_pattern(tmp_path: Path,
                                                                                  pattern: str) -> None:
    path = write_tenant(tmp_path, with_faq_pattern(pattern))
    with pytest.raises(TenantConfigError) as err:
        load_tenant(path)
    msg = str(err.value)
    assert "shop.yaml" in msg and "faqs.0.patterns" in msg and "faq 'catalogo'" in msg
    assert repr(pattern)[:60] in msg and "refused" in msg


def test_a_handoff_trigger_is_checked_the_same_way(tmp_path: Path) -> None:
    doc = demo_doc()
    doc["handoff_triggers"][0]["patterns"] = [r"(mayor)\s+\1"]
    with pytest.raises(TenantConfigError, match=r"shop\.yaml: field handoff_triggers\.0\.patterns: .*'mayoristas'.*"
                                                r"pattern '\(mayor\)\\\\s\+\\\\1' refused"):
        load_tenant(write_tenant(tmp_path, doc))


def test_the_catastrophic_pattern_is_compiled_by_re2_and_a_long_message_is_classified(tmp_path: Path) -> None:
    tenant = load_tenant(write_tenant(tmp_path, with_faq_pattern(CATASTROPHIC)))
    compiled = tenant.faqs[0].compiled
    assert len(compiled) == len(tenant.faqs[0].patterns) and all(isinstance(rx, RE2_REGEX) for rx in compiled)
    assert compiled[-1].pattern == CATASTROPHIC
    for text in ("a" * 25 + "!", "palabra " * 500, "a" * MAX_TEXT_CHARS):  # Python's re: 5 s, then forever
        c = classify(text, tenant)
        assert c.rule != "faq:catalogo"  # `$x` never matches; what matters is that the answer came back


def test_every_tenant_rule_is_matched_by_re2() -> None:
    tenant = load_tenant(DEMO)
    rules = [*tenant.faqs, *tenant.handoff_triggers]
    assert rules and all(isinstance(rx, RE2_REGEX) for r in rules for rx in r.compiled)


def _demo_with_trigger_at_the_end(padding: str) -> str:
    return padding + " vendemos al por mayor"


def test_a_100kb_message_is_classified_on_its_first_4096_characters() -> None:
    tenant = load_tenant(DEMO)
    assert classify(_demo_with_trigger_at_the_end("hola"), tenant).rule == "trigger:mayoristas"  # the control
    for padding in ("hola " * 20_000, "👋" * 100_000, "x" * 100_000):
        text = _demo_with_trigger_at_the_end(padding)
        assert len(text) >= 100_000
        c = classify(text, tenant)
        assert len(c.normalized) <= MAX_TEXT_CHARS  # what the rules ran on
        assert c.rule != "trigger:mayoristas"  # the words past the cap were never looked at


def _flow_answer(response_json: str) -> MessageReceived:
    doc = yaml.safe_load((META / "message_interactive_nfm_reply.json").read_text(encoding="utf-8"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["nfm_reply"]["response_json"] = response_json
    out = normalize_webhook(WebhookPayload.model_validate(doc), datetime(2026, 11, 21, 12, tzinfo=UTC))
    event = out.emits[0].event
    assert isinstance(event, MessageReceived)
    return event


def test_a_flow_response_json_never_reaches_the_text_classifier() -> None:
    """A Flow's answer is structured input for the model (or the tenant's flow rule), whatever its size; the AI
    stage cuts what it sends the model (`llm_input_max_chars`)."""
    tenant = load_tenant(DEMO)
    short = _flow_answer('{"comentario": "somos distribuidor"}')
    long = _flow_answer('{"relleno": "' + "talla 40 " * 12_000 + '", "comentario": "somos distribuidor"}')
    assert len(long.payload.text or "") > 100_000
    for flow in (short, long):
        d = decide(flow.payload, tenant, OPEN_AT)
        assert (d.route, d.rule) == ("ai", "flow:default")  # no tenant trigger ran on it


def test_classification_stops_at_its_pattern_budget() -> None:
    tenant = load_tenant(DEMO)
    text = "quisiera saber si tienen tenis blancos"
    assert classify(text, tenant).rule != BUDGET_RULE
    c = classify(text, tenant, ClassifyLimits(max_patterns=3))
    assert (c.route, c.message_type, c.rule) == ("ai", "BUSINESS_CONSULT", BUDGET_RULE)


def test_classification_stops_at_its_time_budget(caplog: pytest.LogCaptureFixture) -> None:
    ticks = iter(range(1000))
    clock = lambda: float(next(ticks))  # noqa: E731  # every read of the clock is one second later
    with caplog.at_level(logging.WARNING, logger="services.guardrails.classify"):
        c = classify("quisiera saber si tienen tenis blancos", load_tenant(DEMO),
                     ClassifyLimits(max_seconds=2.5, clock=clock))
    assert c.route == "ai" and c.rule == BUDGET_RULE
    assert "budget exceeded for tenant demo" in caplog.text


class _OneTenant:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def get(self, phone_number_id: str) -> Tenant | None:
        return self.tenant if phone_number_id == self.tenant.phone_number_id else None


async def test_a_tenant_with_too_many_patterns_reaches_the_model_and_is_counted() -> None:
    doc = demo_doc()
    doc["faqs"][0]["patterns"] = [rf"\bnunca{i}\b" for i in range(6000)]  # over the 5,000-pattern budget
    fakes, registry = Fakes(), CollectorRegistry()
    answers = AnswerFakes()
    ports = Ports(dedupe=fakes, window=fakes, shadow=fakes, flood=fakes, pending=fakes,
                  tenants=_OneTenant(Tenant.model_validate(doc | {"name": "demo"})), store=MemoryStore(),
                  answers=answers, moves=answers,
                  consent=MemoryConsent())  # type: ignore[arg-type]
    handler = GuardrailsHandler(ports, GuardrailsMetrics(registry), Limits(), clock=lambda: OPEN_AT)
    # Not a product question (those go to the model before the FAQs are tried).
    out = await handler(inbound("quisiera saber si tienen tarjetas de regalo"), meta())
    assert [e.event.type for e in out] == ["AnswerRequested"]
    assert f"classify:BUSINESS_CONSULT:otro:{BUDGET_RULE}" in out[0].event.trace.decision_path
    labels = {"tenant": doc["phone_number_id"]}
    assert registry.get_sample_value("wapipe_guardrails_classify_budget_exceeded_total", labels) == 1
