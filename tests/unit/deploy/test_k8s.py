"""The kustomize overlays build, every object validates offline, and the manifests keep their promises."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from schemas.topics import DLQ_RETENTION_MS, STATUS, TOPICS
from tests.unit.deploy.support import OVERLAYS, ROOT, build, by_kind
from wapipe_tools.deploy import stale

K8S_VERSION = "1.32"
# Custom resources: kubernetes-validate ships schemas for built-in kinds only; these are checked by the
# targeted tests below (topics vs the registry, rules vs promtool) instead.
CRD_KINDS = {"KafkaTopic", "ServiceMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication"}
SERVICES = {"ingress": 8080, "guardrails": 9102, "ai": 9103, "sender": 9104, "notifier": 9105, "media": 9106,
            "console": 9107}
CONSUMERS = ("guardrails", "ai", "sender", "notifier", "media")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_offline(overlay: str) -> None:
    objs = build(overlay)
    unknown = set()
    for obj in objs:
        if obj["kind"] in CRD_KINDS:
            unknown.add(obj["kind"])
            continue
        try:
            kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert unknown <= CRD_KINDS
    assert {o["kind"] for o in objs} >= {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "Ingress",
                                          "ConfigMap", "ServiceMonitor", "PrometheusRule", "KafkaTopic"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_is_deployed_safely(overlay: str) -> None:
    objs = build(overlay)
    deployments, services, pdbs = by_kind(objs, "Deployment"), by_kind(objs, "Service"), by_kind(objs,
                                                                                                   "PodDisruptionBudget")
    scalers = by_kind(objs, "HorizontalPodAutoscaler") | by_kind(objs, "ScaledObject")
    assert set(deployments) == {f"wapipe-{s}" for s in SERVICES}
    for svc, health_port in SERVICES.items():
        name = f"wapipe-{svc}"
        spec = deployments[name]["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["args"] == ["run", svc]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert "metrics" in ports
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            get = container[probe]["httpGet"]
            assert get["path"] == path and ports[get["port"]] == health_port, (name, probe)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp and {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
        assert {"requests", "limits"} <= set(container["resources"])
        assert spec["terminationGracePeriodSeconds"] >= 30
        assert spec["topologySpreadConstraints"]
        assert name in services and name in pdbs and name in scalers, name


def test_keda_overlay_scales_consumers_on_lag_instead_of_cpu() -> None:
    objs = build("prod-keda")
    scaled, hpas = by_kind(objs, "ScaledObject"), by_kind(objs, "HorizontalPodAutoscaler")
    assert set(scaled) == {f"wapipe-{s}" for s in CONSUMERS}
    # The console's pages scale on CPU: its live-feed consumer is light.
    assert set(hpas) == {"wapipe-ingress", "wapipe-console"}, "a consumer with an HPA and a ScaledObject gets two"
    for name, so in scaled.items():
        readers = {t.name for t in TOPICS if name.removeprefix("wapipe-") in t.readers}
        triggers = so["spec"]["triggers"]
        assert {t["metadata"]["topic"] for t in triggers} == readers
        for t in triggers:  # the sender reads statuses with a group of their own, `<group>-status`
            group = f"{name}-status" if (name, t["metadata"]["topic"]) == ("wapipe-sender", STATUS) else name
            assert t["type"] == "kafka" and t["metadata"]["consumerGroup"] == group, (name, t["metadata"])
        assert so["metadata"]["namespace"] == "wapipe"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_webhook_is_reachable_from_outside(overlay: str) -> None:
    objs = build(overlay)
    ingresses = by_kind(objs, "Ingress")
    assert set(ingresses) == {"wapipe-webhook", "wapipe-console"}
    paths = [p for rule in ingresses["wapipe-webhook"]["spec"]["rules"] for p in rule["http"]["paths"]]
    assert [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in paths] == [
        ("/webhook", "Exact", "wapipe-ingress")]
    # The console has an Ingress of its own, on its own host with TLS, reaching the console only.
    console = ingresses["wapipe-console"]["spec"]
    assert {p["backend"]["service"]["name"] for r in console["rules"] for p in r["http"]["paths"]} == {
        "wapipe-console"}
    assert console["tls"] and console["rules"][0]["host"] != ingresses["wapipe-webhook"]["spec"]["rules"][0]["host"]
    policies = by_kind(objs, "NetworkPolicy")
    deny = policies["wapipe-default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    open_to_all = [(name, r["ports"]) for name, p in policies.items() for r in p["spec"].get("ingress", [])
                   if "from" not in r]
    assert open_to_all == [("wapipe-allow-webhook", [{"port": "http", "protocol": "TCP"}])]
    webhook = policies["wapipe-allow-webhook"]["spec"]["podSelector"]["matchLabels"]
    assert webhook == {"app.kubernetes.io/name": "wapipe-ingress"}
    # Every other opening names its source: Prometheus' namespace for metrics, this namespace for the operator API.
    sources = {name: r["from"] for name, p in policies.items() for r in p["spec"].get("ingress", []) if "from" in r}
    assert sources["wapipe-allow-operator-api"] == [{"podSelector": {}}]
    assert sources["wapipe-allow-console"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert "namespaceSelector" in sources["wapipe-allow-metrics-scrape"][0]


def test_prod_ships_no_secret_values_and_runs_in_production_mode() -> None:
    objs = build("prod")
    assert by_kind(objs, "Secret") == {}, "prod secrets are created outside git"
    (config,) = [c for n, c in by_kind(objs, "ConfigMap").items() if n.startswith("wapipe-config")]
    assert config["data"]["WAPIPE_ENV"] == "production"  # stated, though it is the default
    dev_config = next(c for n, c in by_kind(build("dev"), "ConfigMap").items() if n.startswith("wapipe-config"))
    assert dev_config["data"]["WAPIPE_ENV"] == "dev"


def test_tenant_knowledge_configmap_carries_config_tenants() -> None:
    objs = build("prod")
    (tenants,) = [c for n, c in by_kind(objs, "ConfigMap").items() if n.startswith("wapipe-tenants")]
    expected = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "config/tenants").glob("*.yaml")}
    assert expected and tenants["data"] == expected


def _topic_table(objs: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
    return {o["spec"]["topicName"]: (o["spec"]["partitions"], o["spec"]["config"]["retention.ms"])
            for o in objs if o["kind"] == "KafkaTopic"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_match_the_registry_exactly(overlay: str) -> None:
    expected = {}
    for t in TOPICS:
        expected[t.name] = (t.partitions, str(t.retention_ms))
        expected[t.dlq] = (max(1, t.partitions // 4), str(DLQ_RETENTION_MS))
    objs = build(overlay)
    assert _topic_table(objs) == expected
    replicas = {o["spec"]["replicas"] for o in objs if o["kind"] == "KafkaTopic"}
    assert replicas == ({1} if overlay == "dev" else {3})


def test_generated_files_are_up_to_date() -> None:
    assert stale(ROOT) == [], "run `wapipe deploy render` and commit the result"


def test_service_monitor_scrapes_every_service_and_keeps_their_labels() -> None:
    objs = build("prod")
    (monitor,) = by_kind(objs, "ServiceMonitor").values()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == "metrics" and endpoint["honorLabels"] is True
    selected = [s for s in by_kind(objs, "Service").values()
                if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()]
    assert {s["metadata"]["name"] for s in selected} == {f"wapipe-{s}" for s in SERVICES}
    assert all(any(p["name"] == "metrics" for p in s["spec"]["ports"]) for s in selected)
