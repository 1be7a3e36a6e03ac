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
    # Compilers stay in the builder, and the runtime downloads nothing: it copies the builder's virtualenv.
    assert not any("build-essential" in arg for op, arg in runtime if op == "RUN")
    assert not any("pip install" in arg for op, arg in runtime if op == "RUN")
    assert ("COPY", "--from=builder /opt/wapipe /opt/wapipe") in runtime


def test_dependencies_come_from_the_hashed_lock_only() -> None:
    ins = _instructions()
    builder = ins[: max(i for i, (op, _) in enumerate(ins) if op == "FROM")]
    installs = [arg for op, arg in builder if op == "RUN" and "pip install" in arg]
    assert any("--require-hashes -r requirements.lock" in arg for arg in installs)
    assert any("--require-hashes -r requirements-build.lock" in arg for arg in installs)
    # wapipe itself adds no dependency the lock does not hold, and is built without fetching a backend.
    assert any("--no-deps --no-index /dist/" in arg and "pip check" in arg for arg in installs)
    assert any("pip wheel --no-deps --no-build-isolation" in arg for op, arg in builder if op == "RUN")


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
