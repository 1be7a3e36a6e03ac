"""Dead-letter records: the original bytes, key and headers, plus why and where they failed."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.topics import dlq_name

MAX_ERROR_LEN = 1000


def dlq_topic(actual_topic: str) -> str:
    return dlq_name(actual_topic)


def dlq_headers(
    original: list[tuple[str, bytes]], *, error: BaseException, attempts: int, topic: str, partition: int,
    offset: int, service: str,
) -> list[tuple[str, bytes]]:
    kept = [(k, v) for k, v in original if not k.startswith("dlq.")]
    message = str(error)[:MAX_ERROR_LEN]
    return kept + [
        ("dlq.error.class", type(error).__name__.encode()),
        ("dlq.error.message", message.encode("utf-8", "replace")),
        ("dlq.attempts", str(attempts).encode()),
        ("dlq.original.topic", topic.encode()),
        ("dlq.original.partition", str(partition).encode()),
        ("dlq.original.offset", str(offset).encode()),
        ("dlq.service", service.encode()),
        ("dlq.time", datetime.now(UTC).isoformat().encode()),
    ]
