"""Property tests of POST/GET /webhook on the real ingress and the real broker.

Whatever arrives, the answer is a 4xx with a reason or a 200, never a 5xx; and only validly signed bodies put
events on the topics: after each property the topics hold exactly the events the 200 answers announced.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.events import MessageReceived
from schemas.meta.signature import sign
from schemas.topics import INBOUND, STATUS
from tests.security.conftest import SECRET, SyncIngress, meta_bytes, sample_doc, signed
from tests.support import read_topic

SAMPLES = ("message_text", "message_image", "message_location", "message_interactive_button_reply",
           "message_reaction", "status_failed", "batch_multi_entry", "errors", "message_unknown_type")
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


@st.composite
def mutated_samples(draw: st.DrawFn) -> bytes:
    """A real Meta payload with one node replaced by a wrongly typed (or random) value."""
    doc = sample_doc(draw(st.sampled_from(SAMPLES)))
    path = draw(st.sampled_from(_paths(doc)))
    return meta_bytes(_replace(doc, path, draw(json_values)))


@st.composite
def truncated_samples(draw: st.DrawFn) -> bytes:
    body = meta_bytes(sample_doc(draw(st.sampled_from(SAMPLES))))
    return body[: draw(st.integers(0, len(body) - 1))]


def _nested(depth: int) -> bytes:
    return b'{"entry":' + b"[" * depth + b"]" * depth + b"}"


any_body = st.one_of(
    st.binary(max_size=512), st.text(max_size=200).map(str.encode), json_values.map(lambda v: json.dumps(v).encode()),
    mutated_samples(), truncated_samples(), st.integers(1, 50_000).map(_nested),
    st.sampled_from(SAMPLES).map(lambda n: meta_bytes(sample_doc(n))))


@st.composite
def bad_signatures(draw: st.DrawFn, body: bytes) -> dict[str, str]:
    """Every way a signature can be wrong except being right: missing, empty, random, another body's, another
    secret's, truncated, or the right hex under a wrong scheme."""
    good = sign(body, SECRET)
    header = draw(st.one_of(
        st.none(), st.just(""), st.just("sha256="), st.text(st.characters(min_codepoint=33, max_codepoint=126)),
        st.binary(min_size=32, max_size=32).map(lambda b: "sha256=" + b.hex()),
        st.binary(max_size=64).filter(lambda other: other != body).map(lambda other: sign(other, SECRET)),
        st.text(min_size=1, max_size=20).filter(lambda s: s != SECRET).map(lambda s: sign(body, s)),
        st.integers(7, len(good) - 1).map(lambda n: good[:n]),
        st.just(good.replace("sha256=", "sha1=")), st.just(good.removeprefix("sha256="))))
    return {"Content-Type": "application/json"} | ({} if header is None else {"X-Hub-Signature-256": header})


def _refused(r: Any, *codes: int) -> None:
    assert r.status_code in codes, (r.status_code, r.text)
    assert r.json()["error"], r.text  # a 4xx always says why


def _topic_events(ing: SyncIngress, expect: int) -> int:
    """How many events the two topics hold. Ingress answered 200 only once Kafka confirmed every one, so they are
    there; a loaded broker may just be slow to hand them out, so keep reading until `expect` arrived or a generous
    deadline passed (a quiet half second proves nothing)."""
    deadline = time.monotonic() + 30
    while True:
        total = sum(len(read_topic(ing.bootstrap, ing.prefix + t, idle=0.5, timeout=15)) for t in (INBOUND, STATUS))
        if total >= expect or time.monotonic() > deadline:
            return total


def test_unsigned_or_wrongly_signed_bodies_are_refused_and_publish_nothing(sync_ingress: SyncIngress) -> None:
    @FUZZ
    @given(data=st.data(), body=any_body)
    def prop(data: st.DataObject, body: bytes) -> None:
        headers = data.draw(bad_signatures(body))
        r = sync_ingress.post(body, headers)
        _refused(r, 401 if not headers.get("X-Hub-Signature-256") else 403)

    prop()
    assert _topic_events(sync_ingress, 0) == 0


def test_signed_garbage_gets_a_4xx_with_a_reason_and_only_valid_payloads_publish(sync_ingress: SyncIngress) -> None:
    announced = 0

    @FUZZ
    @given(body=any_body)
    def prop(body: bytes) -> None:
        nonlocal announced
        r = sync_ingress.post(body, signed(body))
        assert r.status_code < 500, (r.status_code, r.text, body[:200])
        if r.status_code == 200:
            announced += r.json()["events"]
        else:
            _refused(r, 400)

    prop()
    # Mutated samples may still be valid (an ignored field changed): those, and only those, published.
    assert _topic_events(sync_ingress, announced) == announced


def test_bodies_over_the_limit_are_refused_before_any_work(sync_ingress: SyncIngress) -> None:
    limit = 3 * 1024 * 1024
    huge = b'{"entry":[' + b" " * limit + b"]}"
    _refused(sync_ingress.post(huge, signed(huge)), 413)
    # Unsigned is decided on the headers, before the size: 401 without reading any of it.
    _refused(sync_ingress.post(huge, {"Content-Type": "application/json"}), 401)

    async def chunks() -> Any:  # no Content-Length: the stream is cut once it passes the limit
        for _ in range(8):
            yield b" " * (limit // 4)

    _refused(sync_ingress.post(chunks(), signed(b"x")), 413)
    deep = _nested(200_000)
    _refused(sync_ingress.post(deep, signed(deep)), 400)
    assert _topic_events(sync_ingress, 0) == 0


customer_texts = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300) | st.sampled_from(
    ["Hola 👋🏽 ¿tienen tenis talla 40?", "ñandú \u200d 👨‍👩‍👧 «envío» a Bogotá / Chapinero", "\u202eRTL\u202c",
     "\\u0000 </script>"])


def test_validly_signed_variants_publish_exactly_the_expected_events(sync_ingress: SyncIngress) -> None:
    sent: dict[str, str] = {}

    @settings(max_examples=40, deadline=None, database=None)
    @given(text=customer_texts, ascii_only=st.booleans(), wa_id=st.from_regex(r"\A57[0-9]{10}\Z"))
    def prop(text: str, ascii_only: bool, wa_id: str) -> None:
        doc = sample_doc("message_text")
        value = doc["entry"][0]["changes"][0]["value"]
        msg = value["messages"][0]
        msg_id = f"wamid.fuzz{len(sent):05d}"
        msg.update({"id": msg_id, "from": wa_id, "text": {"body": text}})
        value["contacts"][0]["wa_id"] = wa_id
        body = meta_bytes(doc, ascii_only=ascii_only)
        r = sync_ingress.post(body, signed(body))
        assert (r.status_code, r.json()) == (200, {"events": 1}), r.text
        sent[msg_id] = text

    prop()
    records = read_topic(sync_ingress.bootstrap, sync_ingress.prefix + INBOUND, expect=len(sent), idle=0.5)
    got = {}
    for rec in records:
        e = rec.event()
        assert isinstance(e, MessageReceived)
        got[e.correlation_id] = e.payload.text
    assert got == sent  # every accepted message exactly once, text byte for byte


def test_verification_never_echoes_the_challenge_without_the_token(sync_ingress: SyncIngress) -> None:
    @settings(max_examples=60, deadline=None, database=None)
    @given(token=st.text(max_size=40).filter(lambda t: t != "security-suite-verify-token-83"),
           mode=st.sampled_from(["subscribe", "", "SUBSCRIBE", "unsubscribe"]), challenge=st.text(max_size=20))
    def prop(token: str, mode: str, challenge: str) -> None:
        r = sync_ingress.get("/webhook", params={"hub.mode": mode, "hub.verify_token": token,
                                                 "hub.challenge": challenge})
        assert r.status_code == 403

    prop()
