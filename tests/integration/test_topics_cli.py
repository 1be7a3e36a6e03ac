"""`wapipe topics` against the real broker, and against none."""

from __future__ import annotations

from typer.testing import CliRunner

from schemas.topics import TOPICS
from tests.support import unique
from wapipe.topics import describe_topics
from wapipe_tools.cli.main import app

runner = CliRunner()


def test_create_is_idempotent_and_creates_every_topic_and_dlq(kafka_bootstrap: str) -> None:
    prefix = unique("cli") + "."
    first = runner.invoke(app, ["topics", "create", "--bootstrap", kafka_bootstrap, "--prefix", prefix,
                                "--partitions", "2"])
    assert first.exit_code == 0, first.output
    assert first.output.count("created") == 2 * len(TOPICS)
    again = runner.invoke(app, ["topics", "create", "--bootstrap", kafka_bootstrap, "--prefix", prefix])
    assert again.exit_code == 0 and again.output.count("exists") == 2 * len(TOPICS)
    on_broker = describe_topics(kafka_bootstrap)
    for t in TOPICS:
        assert on_broker[prefix + t.name] == 2 and prefix + t.dlq in on_broker
    described = runner.invoke(app, ["topics", "describe", "--bootstrap", kafka_bootstrap, "--prefix", prefix])
    assert described.exit_code == 0 and "missing" not in described.output


def test_unreachable_broker_is_one_clear_line_and_exit_2() -> None:
    result = runner.invoke(app, ["topics", "create", "--bootstrap", "127.0.0.1:9"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0] and "127.0.0.1:9" in lines[0]
