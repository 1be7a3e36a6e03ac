"""Create, list and describe the registry's topics on a Kafka-protocol broker."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic

from schemas.topics import TOPICS
from wapipe.kafka import Broker, client_config


class BrokerUnreachable(RuntimeError):
    pass


def admin_client(broker: Broker, timeout_s: float = 5.0) -> AdminClient:
    return AdminClient(client_config(broker, {
        "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
        "reconnect.backoff.max.ms": 1000,
        "log_level": 0,
    }))


def _metadata(admin: AdminClient, broker: Broker, timeout_s: float) -> ClusterMetadata:
    try:
        return admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise BrokerUnreachable(f"Kafka broker at {broker} is unreachable ({exc.args[0].str()})") from None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def registry_specs(prefix: str = "", partitions: int | None = None) -> list[TopicSpec]:
    specs: list[TopicSpec] = []
    for t in TOPICS:
        n = partitions or t.partitions
        specs.append(TopicSpec(prefix + t.name, n, {"retention.ms": str(t.retention_ms), **t.config}))
        specs.append(TopicSpec(prefix + t.dlq, max(1, n // 4) if partitions is None else n, t.dlq_config))
    return specs


def create_topics(broker: Broker, specs: list[TopicSpec], timeout_s: float = 5.0) -> dict[str, str]:
    """Create what is missing; returns {topic: 'created' | 'exists'}. Idempotent."""
    admin = admin_client(broker)
    existing = set(_metadata(admin, broker, timeout_s).topics)
    result = {s.name: "exists" for s in specs if s.name in existing}
    todo = [NewTopic(s.name, s.partitions, 1, config=s.config) for s in specs if s.name not in existing]
    if todo:
        for name, fut in admin.create_topics(todo, request_timeout=timeout_s).items():
            try:
                fut.result(timeout=timeout_s)
                result[name] = "created"
            except KafkaException as exc:
                if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                    raise
                result[name] = "exists"
    return result


def describe_topics(broker: Broker, names: list[str] | None = None, timeout_s: float = 5.0) -> dict[str, int]:
    """{topic: partitions} for the named topics (all when None)."""
    md = _metadata(admin_client(broker), broker, timeout_s)
    return {n: len(t.partitions) for n, t in sorted(md.topics.items()) if names is None or n in names}
