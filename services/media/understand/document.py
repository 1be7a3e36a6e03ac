"""The text of a document: PDFs through pypdf, plain text files decoded; the first `max_chars` characters.

Office formats (Word, Excel, PowerPoint) are not read: the message goes on with the file's name only.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass

from schemas.meta.media import base_mime
from services.media.understand.types import UnderstandingFailed

TEXT_TYPES = frozenset({"text/plain", "text/csv"})
MAX_PAGES = 50  # a long PDF's first pages say what it is; reading 500 pages would hold the stage up


@dataclass(frozen=True)
class DocumentText:
    text: str
    pages: int | None
    truncated: bool


def _squash(text: str) -> str:
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n\n", text).strip()


def _cut(text: str, max_chars: int) -> tuple[str, bool]:
    if len(text) <= max_chars:
        return text, False
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars * 0.8 else cut).rstrip() + "…", True


def _pdf_text(data: bytes, max_chars: int) -> DocumentText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnderstandingFailed("the PDF is encrypted", transient=False)
        parts: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            chunk = page.extract_text() or ""
            parts.append(chunk)
            size += len(chunk)
            if size > max_chars:
                break
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise UnderstandingFailed(f"unreadable PDF: {type(e).__name__}", transient=False) from e
    text, truncated = _cut(_squash("\n".join(parts)), max_chars)
    return DocumentText(text=text, pages=pages, truncated=truncated or pages > MAX_PAGES)


def _plain_text(data: bytes, max_chars: int) -> DocumentText:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            decoded = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        decoded = data.decode("latin-1")
    text, truncated = _cut(_squash(decoded), max_chars)
    return DocumentText(text=text, pages=None, truncated=truncated)


async def document_text(data: bytes, mime_type: str, max_chars: int = 4000) -> DocumentText | None:
    """The document's text, or None for a type that is not read (Office files)."""
    mime = base_mime(mime_type)
    if mime == "application/pdf":
        return await asyncio.to_thread(_pdf_text, data, max_chars)
    if mime in TEXT_TYPES:
        return _plain_text(data, max_chars)
    return None
