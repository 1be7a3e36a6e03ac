"""Settings read from files: `WAPIPE_<NAME>_FILE=/path` gives setting `WAPIPE_<NAME>` the content of that file.

This is how Kubernetes hands a pod its secrets (a Secret volume, one file per key) without putting them in the
environment, where every child process and `/proc/<pid>/environ` would see them. The value then goes through
exactly what `WAPIPE_<NAME>` would: the same parsing (JSON for structured settings), the same validators, the same
refusal of development and weak secrets. One trailing newline is dropped (`echo token > file` adds one).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic_settings import EnvSettingsSource
from pydantic_settings.exceptions import SettingsError

SUFFIX = "_FILE"


class FileSettingsSource(EnvSettingsSource):
    """`<prefix><field>_FILE` entries of the process environment, read as if `<prefix><field>` held the file's
    content. Both set at once is refused (which one would win is not obvious to whoever reads the manifest), and so
    is a file that cannot be read; the error names the setting and the path, never the content."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        fold = (lambda k: k) if self.case_sensitive else str.lower
        environ = {fold(k): v for k, v in os.environ.items()}
        values: dict[str, str | None] = {}
        for field in self.settings_cls.model_fields:
            name = fold(f"{self.env_prefix}{field}")
            path = environ.get(name + fold(SUFFIX))
            if path is None:
                continue
            shown = name.upper()
            if name in environ:
                raise SettingsError(f"{shown} and {shown}{SUFFIX} are both set; set only one")
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                raise SettingsError(f"{shown}{SUFFIX}: cannot read {path}: {reason}") from None
            values[name] = text.removesuffix("\n").removesuffix("\r")
        return values
