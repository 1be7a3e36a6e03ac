"""The one librdkafka configuration builder: every security protocol and SASL mechanism, settings in, client
config out, librdkafka accepts it, and the password shows nowhere but in the config librdkafka reads."""

from __future__ import annotations

import logging
import time

import certifi
import confluent_kafka
import pytest
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr, ValidationError

from wapipe.kafka import (
    LIBRDKAFKA_LOG,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    KafkaConnection,
    client_config,
)
from wapipe.settings import CommonSettings

PASSWORD = "kafka-pass-7f3a9c1e5b"
NOWHERE = "127.0.0.1:1"  # nothing listens: clients are built, never connected


def _connection(protocol: str, mechanism: str | None = None, ca: str | None = None) -> KafkaConnection:
    sasl = protocol.startswith("SASL_")
    return KafkaConnection(NOWHERE, protocol, mechanism if sasl else None,  # type: ignore[arg-type]
                           "svc-wapipe" if sasl else None, SecretStr(PASSWORD) if sasl else None, ca)


def _combinations() -> list[tuple[str, str | None, str | None]]:
    out: list[tuple[str, str | None, str | None]] = []
    for protocol in SECURITY_PROTOCOLS:
        mechanisms: tuple[str | None, ...] = SASL_MECHANISMS if protocol.startswith("SASL_") else (None,)
        cas: tuple[str | None, ...] = (None, certifi.where()) if protocol.endswith("SSL") else (None,)
        out += [(protocol, m, ca) for m in mechanisms for ca in cas]
    return out


COMBINATIONS = _combinations()


def test_every_protocol_and_mechanism_is_covered() -> None:
    assert {c[0] for c in COMBINATIONS} == {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}
    assert {c[1] for c in COMBINATIONS} - {None} == {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
    assert len(COMBINATIONS) == 1 + 2 + 3 + 3 * 2


@pytest.mark.parametrize(("protocol", "mechanism", "ca"), COMBINATIONS)
def test_config_carries_exactly_what_the_protocol_needs(protocol: str, mechanism: str | None, ca: str | None) -> None:
    conf = client_config(_connection(protocol, mechanism, ca))
    assert conf["bootstrap.servers"] == NOWHERE and conf["security.protocol"] == protocol
    assert isinstance(conf["logger"], logging.Logger) and conf["logger"] is LIBRDKAFKA_LOG
    sasl_keys = {k for k in conf if k.startswith("sasl.")}
    if protocol.startswith("SASL_"):
        assert sasl_keys == {"sasl.mechanism", "sasl.username", "sasl.password"}
        assert conf["sasl.mechanism"] == mechanism and conf["sasl.username"] == "svc-wapipe"
        assert conf["sasl.password"] == PASSWORD  # librdkafka needs the plain value; nothing else shows it
    else:
        assert sasl_keys == set()
    assert conf.get("ssl.ca.location") == ca  # unset: librdkafka probes the system's CA store


@pytest.mark.parametrize(("protocol", "mechanism", "ca"), COMBINATIONS)
def test_librdkafka_accepts_every_combination(protocol: str, mechanism: str | None, ca: str | None) -> None:
    """Building real clients validates every key and value (and loads the CA file) without a broker."""
    conf = client_config(_connection(protocol, mechanism, ca))
    producer = confluent_kafka.Producer(conf)
    consumer = confluent_kafka.Consumer(client_config(_connection(protocol, mechanism, ca), {"group.id": "g"}))
    AdminClient(conf)
    consumer.close()
    producer.flush(0)


def test_client_keys_come_after_the_connection_and_may_override_its_defaults() -> None:
    conf = client_config(NOWHERE, {"group.id": "g", "log_level": 0})
    assert conf["group.id"] == "g" and conf["log_level"] == 0 and conf["security.protocol"] == "PLAINTEXT"


@pytest.mark.parametrize(("kwargs", "names"), [
    ({"security_protocol": "SASL_SSL"},
     ["WAPIPE_KAFKA_SASL_MECHANISM", "WAPIPE_KAFKA_SASL_USERNAME", "WAPIPE_KAFKA_SASL_PASSWORD"]),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u"},
     ["WAPIPE_KAFKA_SASL_PASSWORD"]),
    ({"security_protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password": SecretStr("")}, ["WAPIPE_KAFKA_SASL_PASSWORD"]),
    ({"sasl_mechanism": "PLAIN", "sasl_username": "u", "sasl_password": SecretStr(PASSWORD)},
     ["WAPIPE_KAFKA_SECURITY_PROTOCOL"]),
    ({"security_protocol": "SSL", "sasl_username": "u"}, ["WAPIPE_KAFKA_SECURITY_PROTOCOL"]),
    ({"ssl_ca_location": "/etc/ca.pem"}, ["WAPIPE_KAFKA_SSL_CA_LOCATION"]),
    ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u",
      "sasl_password": SecretStr(PASSWORD), "ssl_ca_location": "/etc/ca.pem"}, ["WAPIPE_KAFKA_SSL_CA_LOCATION"]),
    ({"bootstrap_servers": " "}, ["WAPIPE_KAFKA_BOOTSTRAP_SERVERS"]),
])
def test_an_unusable_connection_is_refused_naming_the_settings(kwargs: dict[str, object], names: list[str]) -> None:
    with pytest.raises(ValueError) as err:
        KafkaConnection(**{"bootstrap_servers": NOWHERE, **kwargs})  # type: ignore[arg-type]
    assert all(n in str(err.value) for n in names), str(err.value)
    assert PASSWORD not in str(err.value)


def test_settings_build_the_connection_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAPIPE_KAFKA_BOOTSTRAP_SERVERS", "b-1.msk.example:9096,b-2.msk.example:9096")
    monkeypatch.setenv("WAPIPE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("WAPIPE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("WAPIPE_KAFKA_SASL_USERNAME", "wapipe")
    monkeypatch.setenv("WAPIPE_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("WAPIPE_KAFKA_SSL_CA_LOCATION", "")  # empty means unset: the system's CA store
    s = CommonSettings(_env_file=None)  # type: ignore[call-arg]
    conf = client_config(s.kafka())
    assert conf["bootstrap.servers"] == "b-1.msk.example:9096,b-2.msk.example:9096"
    assert (conf["security.protocol"], conf["sasl.mechanism"], conf["sasl.username"], conf["sasl.password"]) == (
        "SASL_SSL", "SCRAM-SHA-512", "wapipe", PASSWORD)
    assert "ssl.ca.location" not in conf
    assert s.kafka("other:9096").bootstrap_servers == "other:9096"  # the CLI's --bootstrap, same security
    assert s.kafka("other:9096").sasl_mechanism == "SCRAM-SHA-512"


def test_plaintext_is_the_default_and_the_local_stack_needs_nothing_else() -> None:
    conf = client_config(CommonSettings(_env_file=None).kafka())  # type: ignore[call-arg]
    assert conf["security.protocol"] == "PLAINTEXT" and not any(k.startswith(("sasl.", "ssl.")) for k in conf)


def test_settings_refuse_sasl_without_credentials_and_do_not_echo_the_inputs() -> None:
    with pytest.raises(ValidationError) as err:
        CommonSettings(_env_file=None, kafka_security_protocol="SASL_SSL",  # type: ignore[call-arg]
                       kafka_sasl_password=SecretStr(PASSWORD))
    assert "WAPIPE_KAFKA_SASL_USERNAME" in str(err.value) and PASSWORD not in str(err.value)


def test_a_generated_short_kafka_password_is_accepted_in_production_but_a_placeholder_is_not() -> None:
    common = {"env": "production", "kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512",
              "kafka_sasl_username": "wapipe"}
    s = CommonSettings(_env_file=None, kafka_sasl_password=SecretStr("Xk3mQ9vL2pTz"), **common)  # type: ignore[arg-type]
    assert s.kafka().sasl_password is not None  # Strimzi generates 12 characters
    with pytest.raises(ValidationError, match="WAPIPE_KAFKA_SASL_PASSWORD"):
        CommonSettings(_env_file=None, kafka_sasl_password=SecretStr("change-me"), **common)  # type: ignore[arg-type]


def test_the_password_shows_in_no_repr_and_no_log_line(caplog: pytest.LogCaptureFixture) -> None:
    connection = _connection("SASL_SSL", "SCRAM-SHA-256", certifi.where())
    settings = CommonSettings(_env_file=None, kafka_security_protocol="SASL_SSL",  # type: ignore[call-arg]
                              kafka_sasl_mechanism="SCRAM-SHA-256", kafka_sasl_username="svc-wapipe",
                              kafka_sasl_password=SecretStr(PASSWORD))
    # librdkafka's `conf` debug context dumps the whole configuration at start; it must come out redacted.
    conf = client_config(connection, {"debug": "conf,security", "log_level": 7})
    for text in (repr(connection), str(connection), repr(settings), str(settings), repr(conf), str(conf),
                 f"{conf}"):
        assert PASSWORD not in text
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("tests.kafka").info("client config: %s", conf)
        producer = confluent_kafka.Producer(conf)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # poll() serves the log queue: that is when lines reach Python logging
            producer.poll(0.05)
            if any(r.name == LIBRDKAFKA_LOG.name and "Client configuration" in r.getMessage()
                   for r in caplog.records):
                break
        producer.flush(0)
    ours = [r for r in caplog.records if r.name == LIBRDKAFKA_LOG.name]
    assert any("sasl.password" in r.getMessage() for r in ours), "the config dump did not reach Python logging"
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)
