"""Tenant patterns on RE2 mean what they meant on Python's `re`: the classifier's text is ASCII after normalisation,
where RE2's ASCII classes and Python's Unicode ones agree, and every shipped pattern matches the same messages."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from services.guardrails.normalize import normalize
from wapipe.tenants import load_tenant

ROOT = Path(__file__).parents[3]
TENANT_FILES = sorted((ROOT / "config" / "tenants").glob("*.yaml"))
LABELLED = [m["text"] for f in ("messages.yaml", "holdout.yaml")
            for m in yaml.safe_load((ROOT / "tests" / "data" / "labelled" / f).read_text(encoding="utf-8"))]
ASCII_WORDS = re.compile(r"[a-z0-9 ]*")


@cache
def demo_synonyms() -> dict[str, list[str]]:
    return load_tenant(TENANT_FILES[0]).synonyms


@settings(max_examples=500, deadline=None, database=None)
@given(text=st.text(max_size=200))
def test_normalised_text_is_ascii_words_and_single_spaces(text: str) -> None:
    assert ASCII_WORDS.fullmatch(normalize(text, demo_synonyms()))
    assert ASCII_WORDS.fullmatch(normalize("Ñandú, CAMPAÑA en İstanbul ٣ ² ﬁ 👋"))


def test_every_shipped_pattern_matches_the_same_messages_on_re2_as_on_re() -> None:
    assert TENANT_FILES and len(LABELLED) > 200
    extra = ["tienen catalogo", "catalogo", "que talla soy", "garantia del producto?", "al por mayor", "dotacion"]
    checked = 0
    for path in TENANT_FILES:
        tenant = load_tenant(path)
        texts = [normalize(t, tenant.synonyms) for t in [*LABELLED, *extra]]
        for rule in [*tenant.faqs, *tenant.handoff_triggers]:
            for pattern, rx in zip(rule.patterns, rule.compiled, strict=True):
                py = re.compile(pattern)
                differ = [t for t in texts if bool(py.search(t)) != bool(rx.search(t))]
                assert differ == [], f"{path.name} {rule.id} {pattern!r}"
                checked += sum(bool(py.search(t)) for t in texts)
    assert checked > 20  # the comparison saw real matches, not only misses
