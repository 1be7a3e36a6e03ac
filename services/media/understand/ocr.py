"""The text in an image, read offline by Tesseract (Debian `tesseract-ocr` + `tesseract-ocr-spa`) through its CLI.

The image goes in on stdin and the text comes back on stdout, so nothing touches the disk. One process per image,
bounded by a timeout (killed when it passes) and by `concurrency` processes at once.
"""

from __future__ import annotations

import asyncio
import shutil

from services.media.understand.types import UnderstandingFailed


class TesseractReader:
    def __init__(self, languages: str = "spa+eng", *, timeout_s: float = 30.0, concurrency: int = 2,
                 binary: str = "tesseract") -> None:
        self.languages = languages
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(concurrency)
        self._binary = binary

    def available(self) -> bool:
        return shutil.which(self._binary) is not None

    async def read_text(self, data: bytes, mime_type: str) -> str:
        async with self._slots:
            try:
                proc = await asyncio.create_subprocess_exec(
                    self._binary, "stdin", "stdout", "-l", self.languages, "--psm", "3",
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            except OSError as e:
                raise UnderstandingFailed(f"tesseract cannot start: {e.strerror}", transient=False) from e
            try:
                out, err = await asyncio.wait_for(proc.communicate(data), self._timeout_s)
            except TimeoutError as e:
                proc.kill()
                await proc.wait()
                raise UnderstandingFailed(f"tesseract took over {self._timeout_s} s", transient=True) from e
        if proc.returncode != 0:
            detail = err.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise UnderstandingFailed(f"tesseract failed ({proc.returncode}): {detail[0][:200]}", transient=False)
        return normalize_ocr(out.decode("utf-8", errors="replace"))


def normalize_ocr(text: str) -> str:
    """Lines stripped, runs of blank lines collapsed, form feeds gone."""
    lines = [line.strip() for line in text.replace("\f", "\n").splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
