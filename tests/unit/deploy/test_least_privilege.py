"""Least privilege in the rendered overlays: each pod can read only the Secret keys its service uses (as files,
never as environment variables), egress is denied by default and opened per service to what it talks to, and
only wapipe's pods may reach Kafka and Redis."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from services.ai.config import AISettings
from services.console.config import ConsoleSettings
from services.guardrails.config import GuardrailsSettings
from services.ingress.config import IngressSettings
from services.media.config import MediaSettings
from services.notifier.config import NotifierSettings
from services.sender.config import SenderSettings
from tests.unit.deploy.support import OVERLAYS, build, by_kind

SETTINGS: dict[str, type[BaseSettings]] = {"ingress": IngressSettings, "guardrails": GuardrailsSettings,
                                           "ai": AISettings, "sender": SenderSettings,
                                           "notifier": NotifierSettings, "media": MediaSettings,
                                           "console": ConsoleSettings}
# Which service needs which Secret key: nothing more may reach its pod.
NEEDS: dict[str, dict[str, set[str]]] = {
    "ingress": {"wapipe-ingress": {"WAPIPE_META_APP_SECRET", "WAPIPE_META_VERIFY_TOKEN", "WAPIPE_API_CHAT_KEY"}},
    "guardrails": {},
    "ai": {"wapipe-ai": {"WAPIPE_OPENAI_API_KEY"}},
    # the Graph API token; S3 as boto3's credentials file (media replies by object-store key)
    "sender": {"wapipe-sender": {"WAPIPE_META_ACCESS_TOKEN", "aws-credentials"}},
    "notifier": {"wapipe-notifier": {"WAPIPE_ADMIN_TOKEN"}},
    # the Graph API token (downloads), the transcription model's key, S3 as boto3's credentials file
    "media": {"wapipe-media": {"WAPIPE_META_ACCESS_TOKEN", "WAPIPE_MEDIA_TRANSCRIPTION_API_KEY", "aws-credentials"}},
    # the session secret; S3 as boto3's credentials file (customers' media shown inline)
    "console": {"wapipe-console": {"WAPIPE_CONSOLE_SESSION_SECRET", "aws-credentials"}},
}
# Authenticated Kafka and Redis (components/connections): every service talks to both.
CONNECTIONS = {"wapipe-connections": {"WAPIPE_KAFKA_SASL_USERNAME", "WAPIPE_KAFKA_SASL_PASSWORD",
                                      "WAPIPE_REDIS_PASSWORD", "kafka-ca.crt"}}
SECURED = {"dev": False, "prod": True, "prod-keda": True}
# Where each service may open connections to.
EGRESS = {
    "ingress": {"dns", "kafka", "redis", "cassandra"},  # the wa_id <-> user_id map lives in the store
    "guardrails": {"dns", "kafka", "redis", "cassandra"},
    "ai": {"dns", "kafka", "redis", "cassandra", "https"},
    "sender": {"dns", "kafka", "redis", "cassandra", "https"},
    "notifier": {"dns", "kafka", "redis", "cassandra"},
    "media": {"dns", "kafka", "redis", "cassandra", "https"},  # Graph API, Meta's media CDN, S3, the model
    "console": {"dns", "kafka", "redis", "cassandra", "https"},  # S3 (customers' media, read only)
}
NEVER_IN_INGRESS = {"WAPIPE_OPENAI_API_KEY", "WAPIPE_META_ACCESS_TOKEN", "WAPIPE_ADMIN_TOKEN"}
PRIVATE = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}


def _pods(overlay: str) -> dict[str, dict[str, Any]]:
    return {name.removeprefix("wapipe-"): d["spec"]["template"] for name, d in
            by_kind(build(overlay), "Deployment").items()}


def secret_keys(pod: dict[str, Any]) -> dict[str, set[str] | None]:
    """Secret name -> the keys this pod can read (None: every key of it, whatever the Secret holds)."""
    spec = pod["spec"]
    refs: dict[str, set[str] | None] = {}

    def add(name: str, keys: set[str] | None) -> None:
        if name in refs and refs[name] is None:
            return
        refs[name] = None if keys is None else (refs.get(name) or set()) | keys

    for c in [*spec.get("containers", []), *spec.get("initContainers", [])]:
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                add(source["secretRef"]["name"], None)
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                add(ref["name"], {ref["key"]})
    for v in spec.get("volumes", []):
        sources = [v] if "secret" in v else v.get("projected", {}).get("sources", [])
        for s in sources:
            if "secret" in s:
                name = s["secret"].get("secretName") or s["secret"].get("name")
                items = s["secret"].get("items")
                add(name, None if items is None else {i["key"] for i in items})
    return refs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_reads_exactly_the_secret_keys_its_service_needs(overlay: str) -> None:
    for service, pod in _pods(overlay).items():
        expected = {**NEEDS[service], **(CONNECTIONS if SECURED[overlay] else {})}
        assert secret_keys(pod) == expected, (overlay, service)


def test_the_table_is_what_each_services_settings_require() -> None:
    """NEEDS cannot drift from the code: a service's own Secret holds exactly its settings' secrets."""
    for service, cls in SETTINGS.items():
        wanted = {f"WAPIPE_{n.upper()}" for n, f in cls.model_fields.items() if isinstance(f.default, SecretStr)}
        if service == "media":  # its own transcription key stands in for the model key it would otherwise use
            wanted = wanted - {"WAPIPE_OPENAI_API_KEY"} | {"WAPIPE_MEDIA_TRANSCRIPTION_API_KEY"}
        given = {k for k in set().union(*NEEDS[service].values()) if k.startswith("WAPIPE_")}
        assert given == wanted, service


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_arrive_as_files_read_through_their_file_setting(overlay: str) -> None:
    for service, pod in _pods(overlay).items():
        (c,) = pod["spec"]["containers"]
        env = {e["name"]: e for e in c.get("env", [])}
        assert not any("valueFrom" in e for e in env.values()), "a secret in the environment leaks to children"
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        for mount in c["volumeMounts"]:
            secret = volumes[mount["name"]].get("secret")
            if secret is None:
                continue
            assert mount["readOnly"] is True and secret["defaultMode"] & 0o007 == 0, (service, mount)
            for item in secret["items"]:
                if item["key"].startswith("WAPIPE_"):
                    path = f"{mount['mountPath']}/{item['path']}"
                    assert env[f"{item['key']}_FILE"]["value"] == path, (overlay, service, item)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_pod_cannot_read_the_model_key_or_the_graph_api_token(overlay: str) -> None:
    objs = build(overlay)
    pods = _pods(overlay)
    refs = secret_keys(pods["ingress"])
    assert None not in refs.values()
    readable = set().union(*(k for k in refs.values() if k))
    assert readable.isdisjoint(NEVER_IN_INGRESS)
    (c,) = pods["ingress"]["spec"]["containers"]
    assert not {e["name"].removesuffix("_FILE") for e in c.get("env", [])} & NEVER_IN_INGRESS
    rendered = by_kind(objs, "Secret")  # dev renders its Secrets: check what they actually hold
    for name in refs:
        if name in rendered:
            assert set(rendered[name].get("stringData", {})).isdisjoint(NEVER_IN_INGRESS), name
    if overlay == "dev":
        assert set(rendered["wapipe-ingress"]["stringData"]) == NEEDS["ingress"]["wapipe-ingress"]


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        present, value = e["key"] in labels, labels.get(e["key"])
        if not {"In": present and value in e.get("values", []),
                "NotIn": not present or value not in e.get("values", []),
                "Exists": present, "DoesNotExist": not present}[e["operator"]]:
            return False
    return True


def _destination(rule: dict[str, Any]) -> str:
    ports = {p["port"] for p in rule["ports"]}
    peers = rule["to"]
    if ports == {53}:
        assert all(p["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"} for p in peers)
        return "dns"
    if all("ipBlock" in p for p in peers):
        assert ports == {443}
        v4 = next(p["ipBlock"] for p in peers if p["ipBlock"]["cidr"] == "0.0.0.0/0")
        assert PRIVATE <= set(v4["except"]), "the internet, not the cluster or the cloud's metadata service"
        return "https"
    (peer,) = peers
    namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
    assert namespace in {"kafka", "redis", "cassandra"}
    return str(namespace)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_is_denied_by_default_and_opened_per_service(overlay: str) -> None:
    objs = build(overlay)
    policies = [p for p in by_kind(objs, "NetworkPolicy").values()]
    namespaces = {d["metadata"]["namespace"] for d in by_kind(objs, "Deployment").values()}
    for ns in namespaces:  # every namespace wapipe runs in denies both ways unless a policy opens a path
        local = [p["spec"] for p in policies if p["metadata"]["namespace"] == ns]
        for direction, rules in (("Egress", "egress"), ("Ingress", "ingress")):
            assert any(p["podSelector"] == {} and direction in p["policyTypes"] and not p.get(rules)
                       for p in local), (overlay, ns, direction)
    for service, pod in _pods(overlay).items():
        labels = pod["metadata"]["labels"]
        reached = set()
        for p in policies:
            spec = p["spec"]
            if p["metadata"]["namespace"] in namespaces and "Egress" in spec["policyTypes"] \
                    and _matches(spec["podSelector"], labels):
                for rule in spec.get("egress", []):
                    assert rule.get("to") and rule.get("ports"), (p["metadata"]["name"], "an egress rule must "
                                                                   "name its peers and ports")
                    reached.add(_destination(rule))
        assert reached == EGRESS[service], (overlay, service)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_wapipe_pods_may_reach_kafka_and_redis(overlay: str) -> None:
    wapipe_ns = next(iter({d["metadata"]["namespace"] for d in by_kind(build(overlay), "Deployment").values()}))
    policies = {(p["metadata"]["namespace"], p["metadata"]["name"]): p["spec"]
                for p in build(overlay) if p["kind"] == "NetworkPolicy"}
    kafka = [s for (ns, _), s in policies.items() if ns == "kafka"]
    redis = [s for (ns, _), s in policies.items() if ns == "redis"]
    assert len(kafka) == 1 and len(redis) == 1, overlay
    assert kafka[0]["podSelector"]["matchLabels"] == {"strimzi.io/cluster": "wapipe", "strimzi.io/kind": "Kafka"}
    assert redis[0]["podSelector"] == {}
    for spec in (kafka[0], redis[0]):
        assert spec["policyTypes"] == ["Ingress"]
        peers = [(peer, rule.get("ports")) for rule in spec["ingress"] for peer in rule["from"]]
        for peer, ports in peers:
            if peer == {"podSelector": {}}:  # the data store's own namespace (brokers, replicas, operators)
                assert ports is None
                continue
            ns = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            assert ports and all(p["port"] in (9092, 9093, 6379) for p in ports), peer
            if ns == wapipe_ns:
                assert peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/part-of": "wapipe"}
            else:  # KEDA reads the consumer groups' lag in prod-keda
                assert (overlay, ns, peer["podSelector"]["matchLabels"]) == \
                    ("prod-keda", "keda", {"app": "keda-operator"}) and spec is kafka[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_pod_environment_builds_its_production_settings(overlay: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The rendered ConfigMap, the container's env and its mounted files, given real-looking values, are what
    the service's settings accept in production mode (or in dev mode for the dev overlay)."""
    import os

    objs = build(overlay)
    (config,) = [c for n, c in by_kind(objs, "ConfigMap").items() if n.startswith("wapipe-config")]
    for service, pod in _pods(overlay).items():
        for key in list(os.environ):
            if key.startswith("WAPIPE_"):
                monkeypatch.delenv(key)
        monkeypatch.chdir(tmp_path)
        (c,) = pod["spec"]["containers"]
        env = {**config["data"], **{e["name"]: e["value"] for e in c.get("env", [])}}
        for name in list(env):
            if name.endswith("_FILE"):
                local = tmp_path / f"{service}-{name}"
                local.write_text("wapipe" if name.endswith("USERNAME_FILE") else secrets.token_hex(24))
                env[name] = str(local)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        s = SETTINGS[service]()
        assert s.production is (overlay != "dev"), (overlay, service)
        assert getattr(s, f"{service}_host") == "0.0.0.0"  # containers listen beyond loopback
        if SECURED[overlay]:
            assert s.kafka_security_protocol == "SASL_SSL" and s.redis().password is not None
