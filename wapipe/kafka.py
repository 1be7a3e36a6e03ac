"""The one way every Kafka client is configured: where the brokers are, how to reach them (TLS, SASL), and
librdkafka's own log lines routed through Python logging instead of stderr.

`client_config` builds the librdkafka configuration of every client wapipe opens (the runtime's producer and
consumers, the readiness and topic admin clients, the notifier's DLQ watch, replay's reader and publisher). A bare
string is a PLAINTEXT bootstrap list (the local stack, tests); production passes the `KafkaConnection` that
`CommonSettings.kafka()` builds from the `WAPIPE_KAFKA_*` settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import SecretStr

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
SECURITY_PROTOCOLS: tuple[SecurityProtocol, ...] = get_args(SecurityProtocol)
SASL_MECHANISMS: tuple[SaslMechanism, ...] = get_args(SaslMechanism)

# librdkafka's own lines ("FAIL", "REQTMOUT", ...) arrive here, at the Python level matching their syslog level.
LIBRDKAFKA_LOG = logging.getLogger("wapipe.kafka.librdkafka")
_SECRET_KEYS = frozenset({"sasl.password", "ssl.key.password", "ssl.keystore.password"})


@dataclass(frozen=True)
class KafkaConnection:
    """How to reach the brokers. The password is a `SecretStr`: it never shows in a repr, a log line or an error."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None

    def __post_init__(self) -> None:
        problems = connection_problems(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def __str__(self) -> str:  # what messages name: "Kafka broker at <this> is unreachable"
        return self.bootstrap_servers


Broker = KafkaConnection | str


def connection_problems(c: KafkaConnection) -> list[str]:
    """What is missing or contradictory, each naming the setting to fix (empty when the connection is usable)."""
    problems: list[str] = []
    if not c.bootstrap_servers.strip():
        problems.append("WAPIPE_KAFKA_BOOTSTRAP_SERVERS is empty")
    if c.security_protocol not in SECURITY_PROTOCOLS:
        problems.append(f"WAPIPE_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}")
        return problems
    if c.sasl:
        if c.sasl_mechanism not in SASL_MECHANISMS:
            problems.append(f"{c.security_protocol} needs WAPIPE_KAFKA_SASL_MECHANISM "
                            f"({', '.join(SASL_MECHANISMS)})")
        if not c.sasl_username:
            problems.append(f"{c.security_protocol} needs WAPIPE_KAFKA_SASL_USERNAME")
        if c.sasl_password is None or not c.sasl_password.get_secret_value():
            problems.append(f"{c.security_protocol} needs WAPIPE_KAFKA_SASL_PASSWORD")
    elif c.sasl_mechanism or c.sasl_username or c.sasl_password is not None:
        problems.append(f"SASL settings are set but WAPIPE_KAFKA_SECURITY_PROTOCOL is {c.security_protocol}; "
                        "use SASL_SSL (or SASL_PLAINTEXT)")
    if c.ssl_ca_location and not c.tls:
        problems.append(f"WAPIPE_KAFKA_SSL_CA_LOCATION is set but WAPIPE_KAFKA_SECURITY_PROTOCOL is "
                        f"{c.security_protocol}; use SSL or SASL_SSL")
    return problems


def connection(broker: Broker) -> KafkaConnection:
    return broker if isinstance(broker, KafkaConnection) else KafkaConnection(broker)


class ClientConfig(dict[str, Any]):  # Any: the stubs of AdminClient type values narrower than librdkafka takes
    """A librdkafka configuration whose repr (and so str, %s and f-strings) masks the secrets it must carry."""

    def __repr__(self) -> str:
        return repr({k: "**********" if k in _SECRET_KEYS else v for k, v in self.items()})


def client_config(broker: Broker, extra: Mapping[str, object] | None = None) -> ClientConfig:
    """The configuration of one client: connection and security first, then the client's own `extra` keys."""
    c = connection(broker)
    conf = ClientConfig({
        "bootstrap.servers": c.bootstrap_servers,
        "security.protocol": c.security_protocol,
        "logger": LIBRDKAFKA_LOG,
        "log_level": 3,  # errors and worse; librdkafka's debug contexts are opt-in through `extra`
    })
    if c.sasl:
        assert c.sasl_password is not None  # checked in __post_init__
        conf.update({"sasl.mechanism": c.sasl_mechanism, "sasl.username": c.sasl_username,
                     "sasl.password": c.sasl_password.get_secret_value()})
    if c.tls and c.ssl_ca_location:
        conf["ssl.ca.location"] = c.ssl_ca_location
    conf.update(extra or {})
    return conf
