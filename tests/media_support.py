"""Real media for the media tests, made on the spot: a Spanish voice note, a receipt screenshot, a PDF."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest


def plain_words(text: str) -> set[str]:
    """Lower-case, accent-free words: what a tolerant transcript check compares."""
    folded = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    return set(re.findall(r"[a-z0-9]+", folded))


def voice_note(text: str, folder: Path, name: str = "nota") -> bytes:
    """`text` spoken by espeak-ng's Spanish voice, encoded as WhatsApp sends voice notes (OGG/Opus, 16 kHz mono)."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is missing (make sysdeps installs it)")
    wav, ogg = folder / f"{name}.wav", folder / f"{name}.ogg"
    subprocess.run(["espeak-ng", "-v", "es", "-s", "130", "-w", str(wav), text], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", "-ar", "16000",
                    "-c:a", "libopus", "-b:a", "32k", str(ogg)], check=True, capture_output=True)
    return ogg.read_bytes()


def receipt_png(lines: list[str], size: int = 40) -> bytes:
    """A white screenshot with these lines in black, like a wallet app's payment confirmation."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (900, 120 + len(lines) * int(size * 1.8)), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((60, 60 + i * int(size * 1.8)), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _pdf_string(text: str) -> bytes:
    return text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def minimal_pdf(pages: list[list[str]]) -> bytes:
    """A valid PDF 1.4 written by hand: one Helvetica text line per item, one page per list."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids: list[int] = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for lines in pages:
        ops = b"BT /F1 14 Tf 72 760 Td 18 TL " + b" ".join(b"(" + _pdf_string(line) + b") Tj T*" for line in lines)
        ops += b" ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id))
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids) + b"] /Count %d >>" % len(kids)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
