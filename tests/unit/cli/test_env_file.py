"""The local stack reads `.env.example` with python-dotenv: the same parser pydantic-settings uses for `.env`."""

from __future__ import annotations

from pathlib import Path

from wapipe_tools.local.stack import env_file_values, stack_env

ROOT = Path(__file__).resolve().parents[3]


def test_quotes_export_and_comments_are_understood(tmp_path: Path) -> None:
    f = tmp_path / "x.env"
    f.write_text('# a comment\nexport WAPIPE_LOG_LEVEL=DEBUG\nWAPIPE_TOPIC_PREFIX=\n'
                 'WAPIPE_LLM_PRICES=\'{"m": [1, 2]}\'\nWAPIPE_ADMIN_TOKEN="a b#c"  # trailing comment\n'
                 '# WAPIPE_OPENAI_MODEL=commented-out\nWAPIPE_NO_VALUE\n', encoding="utf-8")
    assert env_file_values(f) == {"WAPIPE_LOG_LEVEL": "DEBUG", "WAPIPE_TOPIC_PREFIX": "",
                                  "WAPIPE_LLM_PRICES": '{"m": [1, 2]}', "WAPIPE_ADMIN_TOKEN": "a b#c"}


def test_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert env_file_values(tmp_path / "absent.env") == {}


def test_the_stack_takes_the_dev_values_of_env_example(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)
    env = stack_env(tmp_path, base={"WAPIPE_LOG_LEVEL": "WARNING"})
    assert env["WAPIPE_API_CHAT_KEY"] == "dev-api-chat-key"  # from .env.example
    assert env["WAPIPE_LOG_LEVEL"] == "WARNING"  # the caller's own WAPIPE_* wins over the file
    assert "WAPIPE_KAFKA_SASL_MECHANISM" not in env  # commented out in .env.example
