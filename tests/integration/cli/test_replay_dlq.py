"""`wapipe replay` and `wapipe dlq` against the real broker: selection by offset/time/key, headers, requeue."""

from __future__ import annotations

from confluent_kafka import Producer
from typer.testing import CliRunner

from tests.support import read_topic, unique
from wapipe.topics import describe_topics
from wapipe_tools.cli.main import app

runner = CliRunner()
T0 = 1_790_000_000_000  # fixed record timestamps (ms) so time windows are exact


def produce(bootstrap: str, topic: str, rows: list[tuple[str, bytes, int, list[tuple[str, bytes]]]]) -> None:
    p = Producer({"bootstrap.servers": bootstrap, "log_level": 3})
    for key, value, ts, headers in rows:
        p.produce(topic, value=value, key=key, timestamp=ts, headers=headers)
    assert p.flush(10) == 0


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_replay_selects_by_time_and_conversation_and_adds_provenance(kafka_bootstrap: str, topic_prefix: str) -> None:
    src, dst = topic_prefix + "wa.inbound.v1", topic_prefix + "wa.outbound.v1"
    rows = [(f"100:{i % 3}", f"m{i}".encode(), T0 + i * 1000, [("event_type", b"MessageReceived")])
            for i in range(12)]
    produce(kafka_bootstrap, src, rows)

    # since 2 s .. until 10 s: records 2..9; conversation 100:1 -> 4 and 7
    invoke("replay", "--topic", src, "--since", "2026-09-21T14:13:22Z", "--until", "2026-09-21T14:13:30Z",
           "--conversation", "100:1", "--to", dst, "--bootstrap", kafka_bootstrap)

    got = read_topic(kafka_bootstrap, dst, expect=2)
    assert sorted(r.value for r in got) == [b"m4", b"m7"]
    for r in got:
        assert r.key == "100:1"
        assert r.headers["event_type"] == b"MessageReceived"
        assert r.headers["replay.source.topic"] == src.encode()
        assert r.headers["replay.reason"] == b"replay"


def test_replay_from_offset_and_dry_run(kafka_bootstrap: str, topic_prefix: str) -> None:
    src, dst = topic_prefix + "wa.status.v1", topic_prefix + "wa.delivery.v1"
    produce(kafka_bootstrap, src, [("same-key", f"s{i}".encode(), T0 + i, []) for i in range(5)])

    out = invoke("replay", "--topic", src, "--from-offset", "3", "--to", dst, "--dry-run",
                 "--bootstrap", kafka_bootstrap)
    assert "selected" in out and "2" in out
    assert read_topic(kafka_bootstrap, dst, idle=1.0) == []

    invoke("replay", "--topic", src, "--from-offset", "3", "--to", dst, "--bootstrap", kafka_bootstrap)
    assert [r.value for r in read_topic(kafka_bootstrap, dst, expect=2)] == [b"s3", b"s4"]


def test_replay_into_sandbox_creates_its_topics(kafka_bootstrap: str, topic_prefix: str) -> None:
    src = topic_prefix + "wa.inbound.v1"
    produce(kafka_bootstrap, src, [("100:9", b"hola", T0, [])])
    name = unique("sb")
    invoke("replay", "--topic", src, "--sandbox", name, "--bootstrap", kafka_bootstrap)

    topics = describe_topics(kafka_bootstrap)
    assert f"sandbox.{name}.wa.outbound.v1" in topics and f"sandbox.{name}.wa.inbound.v1.dlq" in topics
    got = read_topic(kafka_bootstrap, f"sandbox.{name}.wa.inbound.v1", expect=1)
    assert [(r.key, r.value, r.headers["replay.reason"]) for r in got] == [("100:9", b"hola",
                                                                             f"sandbox:{name}".encode())]


def test_invalid_input_is_one_line_and_exit_2(kafka_bootstrap: str, topic_prefix: str) -> None:
    src = topic_prefix + "wa.inbound.v1"
    cases = [
        ["replay", "--topic", src, "--to", src, "--sandbox", "x"],
        ["replay", "--topic", src, "--to", src, "--since", "yesterday-ish"],
        ["replay", "--topic", src, "--from-offset", "1", "--since", "1h", "--to", src],
        ["replay", "--topic", "no.such.topic", "--to", src],
        ["replay", "--topic", src, "--sandbox", "Bad Name!"],
        ["dlq", "show", src],
    ]
    for args in cases:
        result = runner.invoke(app, [*args, "--bootstrap", kafka_bootstrap] if args[0] == "replay" else
                               [*args, "--bootstrap", kafka_bootstrap])
        assert result.exit_code == 2, (args, result.output)
        assert result.output.count("error:") == 1 and "Traceback" not in result.output, result.output


def test_dlq_list_show_and_requeue_to_the_original_topic(kafka_bootstrap: str, topic_prefix: str) -> None:
    original, dlq = topic_prefix + "wa.ai.requests.v1", topic_prefix + "wa.ai.requests.v1.dlq"
    headers = [("event_type", b"AnswerRequested"), ("dlq.error.class", b"TimeoutError"),
               ("dlq.error.message", b"model timed out"), ("dlq.attempts", b"5"),
               ("dlq.original.topic", original.encode()), ("dlq.original.partition", b"3"),
               ("dlq.original.offset", b"41"), ("dlq.service", b"ai")]
    produce(kafka_bootstrap, dlq, [("100:7", b"payload-a", T0, headers), ("100:8", b"payload-b", T0 + 1, headers)])

    listing = invoke("dlq", "list", "--prefix", topic_prefix, "--bootstrap", kafka_bootstrap)
    line = next(ln for ln in listing.splitlines() if dlq in ln)
    assert " 2 " in line and "TimeoutError" in line

    shown = invoke("dlq", "show", dlq, "--bootstrap", kafka_bootstrap)
    assert "TimeoutError" in shown and "model timed out" in shown and "100:7" in shown

    dry = invoke("dlq", "requeue", dlq, "--dry-run", "--bootstrap", kafka_bootstrap)
    assert f"would requeue 2 record(s) to {original}" in dry
    assert read_topic(kafka_bootstrap, original, idle=1.0) == []

    invoke("dlq", "requeue", dlq, "--conversation", "100:8", "--bootstrap", kafka_bootstrap)
    got = read_topic(kafka_bootstrap, original, expect=1)
    assert [(r.key, r.value) for r in got] == [("100:8", b"payload-b")]
    assert not any(k.startswith("dlq.") for k in got[0].headers)
    assert got[0].headers["event_type"] == b"AnswerRequested"
    assert got[0].headers["replay.source.topic"] == dlq.encode()
