"""How one worker consumes: where, which group and topics, and its bounds. Read by the worker (the consumer loop)
and by the record processor (concurrency, retries), which import this module and not each other."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wapipe.kafka import Broker


@dataclass(frozen=True)
class WorkerConfig:
    bootstrap: Broker  # a KafkaConnection (TLS, SASL) or a bare PLAINTEXT bootstrap list
    group_id: str
    topics: tuple[str, ...]
    service: str
    topic_prefix: str = ""
    max_in_flight: int = 256
    # Records fetched ahead of the concurrency bound, so keys queued behind their own predecessors do not
    # starve other keys (default: 4 x max_in_flight). Partitions pause when this many are unfinished.
    max_buffered: int | None = None
    max_attempts: int = 5
    backoff_base_s: float = 0.2
    backoff_max_s: float = 10.0
    drain_timeout_s: float = 20.0
    # How long a record keeps waiting for Redis to come back (a failover, a restart) before its failures count
    # against max_attempts; a longer outage shows as lag and paused partitions first, then in the DLQ.
    outage_wait_s: float = 120.0
    commit_interval_s: float = 1.0
    session_timeout_ms: int = 6000
    batch_size: int = 500
    # How long one poll waits for a first record (also how long a stop can take to be noticed), then how long it
    # gathers more before handing them over together (`Worker._poll`): 10 ms per hop buys fewer, larger batches
    # downstream (docs/benchmarks.md, "Morning round").
    poll_wait_s: float = 0.1
    batch_wait_s: float = 0.01
    extra: dict[str, Any] = field(default_factory=dict)
    # Records to finish without decoding, judged by their headers (a `wapipe.runtime.skip.Skip`): what the
    # handler would return nothing for. None: every record is decoded and handled.
    skip: Callable[[Mapping[str, bytes]], bool] | None = None
