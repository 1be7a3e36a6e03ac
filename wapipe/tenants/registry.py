"""Loading tenant files and looking tenants up by phone_number_id, with reload on change (no restart)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from wapipe.tenants.models import Tenant

log = logging.getLogger(__name__)


class TenantConfigError(ValueError):
    """A tenant file that cannot be used; the message names the file and the field."""


def load_tenant(path: str | Path) -> Tenant:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TenantConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise TenantConfigError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(doc, dict):
        raise TenantConfigError(f"{path}: expected a mapping at the top level")
    doc.setdefault("name", path.stem)
    try:
        return Tenant.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise TenantConfigError(f"{path}: {problems}") from exc


class TenantRegistry:
    """Every `*.yaml` of a directory, by phone_number_id and by name.

    Lookups check the files' mtimes at most every `check_interval_s` and reload what changed, so editing a
    tenant file takes effect without a restart. A file that breaks on reload is logged and its previous version
    kept; a file broken at startup raises (fail fast).
    """

    def __init__(self, directory: str | Path, check_interval_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = Path(directory)
        self.check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._mtimes: dict[Path, float] = {}
        self._by_file: dict[Path, Tenant] = {}
        self._checked_at = clock()
        self.reload(strict=True)

    def reload(self, strict: bool = False) -> bool:
        """Re-read changed, new and deleted files now; True when anything changed."""
        with self._lock:
            self._checked_at = self._clock()
            if not self.directory.is_dir():
                raise TenantConfigError(f"{self.directory}: tenant directory not found")
            current = {p: p.stat().st_mtime for p in sorted(self.directory.glob("*.yaml"))}
            changed = False
            for path in [p for p in self._by_file if p not in current]:
                del self._by_file[path]
                changed = True
            for path, mtime in current.items():
                if self._mtimes.get(path) == mtime and path in self._by_file:
                    continue
                try:
                    self._by_file[path] = load_tenant(path)
                    changed = True
                except TenantConfigError:
                    if strict:
                        raise
                    log.exception("tenant file %s is invalid; keeping its previous version", path.name)
            self._mtimes = current
            self._check_unique()
            if changed:
                log.info("tenants loaded: %s", ", ".join(sorted(t.name for t in self._by_file.values())))
            return changed

    def _check_unique(self) -> None:
        seen: dict[str, Path] = {}
        for path, t in self._by_file.items():
            if t.phone_number_id in seen:
                raise TenantConfigError(f"{path}: field phone_number_id: {t.phone_number_id} is already used by "
                                        f"{seen[t.phone_number_id]}")
            seen[t.phone_number_id] = path

    def _maybe_reload(self) -> None:
        if self._clock() - self._checked_at >= self.check_interval_s:
            try:
                self.reload()
            except TenantConfigError:
                log.exception("tenant reload failed; keeping the loaded tenants")

    def get(self, phone_number_id: str) -> Tenant | None:
        self._maybe_reload()
        for t in self._by_file.values():
            if t.phone_number_id == phone_number_id:
                return t
        return None

    def by_name(self, name: str) -> Tenant | None:
        self._maybe_reload()
        for t in self._by_file.values():
            if t.name == name:
                return t
        return None

    def all(self) -> list[Tenant]:
        self._maybe_reload()
        return sorted(self._by_file.values(), key=lambda t: t.name)
