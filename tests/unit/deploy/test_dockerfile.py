"""The image: multi-stage, non-root, one image whose command picks the service, nothing secret in the context."""

from __future__ import annotations

import re

from tests.unit.deploy.support import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "") for ln in lines]


def test_multi_stage_runtime_runs_as_a_numeric_non_root_user() -> None:
    ins = _instructions()
    stages = [arg for op, arg in ins if op == "FROM"]
    assert len(stages) == 2 and stages[0].endswith("AS builder") and stages[1].endswith("AS runtime")
    last_from = max(i for i, (op, _) in enumerate(ins) if op == "FROM")
    runtime = ins[last_from:]
    users = [arg for op, arg in runtime if op == "USER"]
    uid = re.search(r"ARG UID=(\d+)", DOCKERFILE)
    assert users == ["${UID}:${UID}"] and uid and int(uid.group(1)) >= 10000  # numeric: runAsNonRoot can verify it
    assert "10001" in (ROOT / "deploy/k8s/base/ingress.yaml").read_text(encoding="utf-8")
    # Compilers stay in the builder: the runtime installs wheels only.
    assert not any("build-essential" in arg for op, arg in runtime if op == "RUN")
    assert any("--no-index" in arg for op, arg in runtime if op == "RUN")


def test_the_command_picks_the_service() -> None:
    ins = dict(_instructions())
    assert ins["ENTRYPOINT"] == '["wapipe"]'
    assert ins["CMD"].startswith('["run", ')


def test_everything_copied_exists_and_secrets_stay_out_of_the_context() -> None:
    for op, arg in _instructions():
        if op == "COPY" and "--from" not in arg:
            *sources, _dest = arg.split()
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: missing"
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".git", ".venv", ".wapipe", "tests"} <= ignored
