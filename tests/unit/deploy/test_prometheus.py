"""Alert rules: promtool accepts them, every alert has a unit test and a runbook section that exists."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.unit.deploy.support import ROOT, github_anchors, tool

RULES = ROOT / "deploy/prometheus/rules/wapipe.rules.yml"
TESTS = ROOT / "deploy/prometheus/tests/wapipe.rules.test.yml"
WHY = "Debian package `prometheus`; `make test` installs it through the sysdeps target"


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    promtool = tool("promtool", WHY)
    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=120)


def _alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [r for g in groups for r in g["rules"] if "alert" in r]


def test_promtool_check_rules() -> None:
    done = _promtool("check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_unit_tests_pass() -> None:
    done = _promtool("test", "rules", TESTS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_firing_unit_test() -> None:
    tests = yaml.safe_load(TESTS.read_text(encoding="utf-8"))["tests"]
    fired = {case["alertname"] for t in tests for case in t.get("alert_rule_test", []) if case.get("exp_alerts")}
    assert {a["alert"] for a in _alerts()} <= fired


def test_every_alert_links_to_its_runbook_section() -> None:
    anchors = github_anchors((ROOT / "docs/operations.md").read_text(encoding="utf-8"))
    prefix = "https://github.com/wapipe/wapipe/blob/main/docs/operations.md#"
    for alert in _alerts():
        url = alert["annotations"]["runbook_url"]
        assert url.startswith(prefix), alert["alert"]
        assert url.removeprefix(prefix) in anchors, f"{alert['alert']}: no section #{url.removeprefix(prefix)}"
        assert alert["labels"]["severity"] in {"page", "ticket"}


def test_compose_scrape_config_is_valid_and_scrapes_every_service(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "wapipe"]
    targets = {t for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {"ingress:9101", "guardrails:9102", "ai:9103", "sender:9104", "notifier:9105",
                       "media:9106", "console:9107"}
    assert job["honor_labels"] is True  # the runtime's own `service` label must survive the scrape
    config["rule_files"] = [str(RULES)]  # the container path, pointed at the repository, so promtool loads them
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = _promtool("check", "config", local)
    assert done.returncode == 0, done.stdout + done.stderr
